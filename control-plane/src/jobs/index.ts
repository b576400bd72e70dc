// The hub's background jobs.
import type { Deps } from '../deps'
import type { Job } from './leader'

export function hubJobs(d: Deps): Job[] {
  const { config } = d
  return [
    { name: 'check-servers', everyMs: config.hub.pollIntervalSec * 1000, run: () => d.orchestrator.checkAll() },
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
      name: 'sweep-revoked-sessions',
      everyMs: 60_000,
      async run() {
        await d.sessions.sweepRevoked()
      },
    },
  ]
}
