// The hub's background jobs, run by the elected leader replica (leader.ts).
import type { Deps } from '../deps'
import { cullIdle } from './culler'
import { superviseServices } from '../services/supervisor'
import { rotateOidcKeys } from '../oidc/rotate'
import { publishAllAccess } from '../scopes/edge'
import type { Job } from './leader'
import { refreshActiveUsers } from '../sessions/refresh'
import { migrationJob } from '../ops/migrations'

export function hubJobs(d: Deps): Job[] {
  const { config } = d
  const jobs: Job[] = [
    { name: 'check-servers', everyMs: config.hub.pollIntervalSec * 1000, run: () => d.orchestrator.checkAll() },
    {
      name: 'sweep-orphan-processes',
      everyMs: Math.max(config.hub.pollIntervalSec, config.hub.serverLockLeaseSec) * 2000,
      run: async () => void (await d.orchestrator.sweepOrphans()),
    },
    {
      // JupyterHub's refresh_user for users with running servers (their pages refresh them too)
      name: 'refresh-users',
      everyMs: Math.max(10_000, Math.min(60_000, config.auth.refreshAgeSec * 1000)),
      run: async () => void (await refreshActiveUsers(d)),
    },
    {
      name: 'rotate-cookie-keys',
      everyMs: Math.min(60_000, config.sessions.keyRotationSec * 250),
      async run() {
        if ((await d.cookieKeys.currentAgeSec()) >= config.sessions.keyRotationSec) {
          await d.cookieKeys.rotate(false, config.sessions.keyRotationSec + config.sessions.maxAgeSec)
          d.log.info('rotated cookie-signing key')
        }
      },
    },
    {
      name: 'expire-tokens-and-sessions',
      everyMs: 60_000,
      async run() {
        await d.tokens.sweepExpired()
        await d.sessions.sweepExpired()
        await d.sessions.sweepRevoked()
      },
    },
    {
      // Proxies flush server activity into the activity hash; users' last_activity follows it here.
      name: 'roll-up-user-activity',
      everyMs: config.proxy.activityFlushSec * 1000,
      async run() {
        const byUser = new Map<string, number>()
        for (const [field, ms] of Object.entries(await d.redis.hgetall(d.keys.activity))) {
          const slash = field.indexOf('/')
          if (slash < 0) continue // a service's activity
          const user = field.slice(0, slash)
          byUser.set(user, Math.max(byUser.get(user) ?? 0, Number(ms)))
        }
        for (const [user, ms] of byUser) await d.users.touch(user, new Date(ms)) // raise-only; gone users untouched
      },
    },
  ]
  // Entries written by a replica still on other roles (during a rolling config change) are put right.
  jobs.push({ name: 'reconcile-access', everyMs: 300_000, run: () => publishAllAccess(d) })
  jobs.push({ name: 'rotate-oidc-keys', everyMs: 60_000, run: async () => void (await rotateOidcKeys(d)) })
  // data of an earlier release: its migrations (ops/migrations.ts); a GET once they have run
  jobs.push({ name: 'migrate-schema', everyMs: 2000, run: migrationJob(d) })
  if (config.services.some((s) => s.command))
    jobs.push({ name: 'supervise-services', everyMs: 1000, run: () => superviseServices(d) })
  const c = config.culler
  if (c.enabled) {
    jobs.push({
      name: 'cull-idle',
      everyMs: (c.everySec ?? Math.min(300, c.timeoutSec / 2)) * 1000,
      run: async () => void (await cullIdle(d, c)),
    })
  }
  return jobs
}
