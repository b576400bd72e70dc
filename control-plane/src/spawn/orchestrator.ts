// Starting and stopping servers: one at a time per server (Redis lock), progress published to Redis,
// the route written only once the server answers on the address the proxy will use.
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { serverClientId, type OAuthClients } from '../oauth/clients'
import type { Shares } from '../state/shares'
import type { Json, Spawner, SpawnerState, SpawnUser } from '../../../spawners/src'
import { BadRequest, FencedOut, SpawnFailed, SpawnThrottled } from '../../../runtime/src/errors'
import type { Logger } from '../../../runtime/src/log'
import type { KeyNames } from '../state/keys'
import type { ProxyTables } from '../state/proxy-tables'
import type { ServerRecord, Servers } from '../state/servers'
import type { Tokens } from '../state/tokens'
import { delay, waitFor } from '../../../runtime/src/wait'
import { acquireLock, type Guard, type HeldLock } from './lock'
import { SpawnThrottle, type SpawnSlot } from './throttle'
import { ActiveServerLimitReached } from './active-limit'
import { checkServerName } from './names'
import { checkNewServerName } from './new-server-name'
import { userOrigin } from '../http/subdomain'
import type { Progress } from './progress'
import type { Activity } from '../state/activity'
import type { Redis } from 'ioredis'

export interface OrchestratorOptions {
  startTimeoutSec: number
  httpTimeoutSec: number
  stopGraceSec: number
  /** spawner.removeOrphans: stop servers no record owns (else log each once). */
  removeOrphans?: boolean
  slowSpawnTimeoutSec: number
  publicUrl: string // e.g. http://127.0.0.1:8000
  /** JupyterHub's subdomain_host: each user's servers on a host of their own. */
  subdomainHost?: string
  logDir: string
  adminAccess: boolean
  allowNamedServers: boolean
  namedServerLimitPerUser: number
  /** Most spawns in progress at once across replicas; 0 = no limit. */
  concurrentSpawnLimit: number
  /** Most servers active (starting, running or stopping) at once across replicas; 0 = no limit. */
  activeServerLimit: number
  /** Lease of the per-server lock: a replica that dies mid-spawn holds it this long at most. */
  lockLeaseMs: number
  /** Replicas that must have a lock acquisition before it is used (1 with Sentinel, else 0). */
  lockReplicas: number
  /** Marks every server process this hub starts (EDGEHUB_HUB_ID), so orphans can be found. */
  hubId: string
}

export interface Deps {
  redis: Redis
  keys: KeyNames
  servers: Servers
  tables: ProxyTables
  tokens: Tokens
  oauthClients: OAuthClients
  shares: Pick<Shares, 'forgetServer'>
  progress: Progress
  activity: Activity
  spawner: Spawner
  /** The authenticator's check before a start (throws when the owner must log in again). */
  beforeSpawn(user: string): Promise<void>
  /** Environment from the owner's auth state for their servers (the authenticator's spawnEnv). */
  authEnv(user: string): Promise<Record<string, string>>
  /** Who a server is for (their groups decide the profiles offered): the server's owner. */
  owner(user: string): Promise<SpawnUser>
  log: Logger
}

export function serverBaseUrl(user: string, server: string): string {
  return `/user/${encodeURIComponent(user)}/${server ? `${encodeURIComponent(server)}/` : ''}`
}

export function progressUrl(user: string, server: string): string {
  return `/hub/api/users/${encodeURIComponent(user)}/server${server ? `s/${encodeURIComponent(server)}` : ''}/progress`
}

export function spawnPendingUrl(user: string, server: string): string {
  return `/hub/spawn-pending/${encodeURIComponent(user)}${server ? `/${encodeURIComponent(server)}` : ''}`
}

/** The proxy matches decoded paths, so route keys hold the names as they are. */
export function routeKey(user: string, server: string): string {
  return `/user/${user}/${server ? `${server}/` : ''}`
}

/** Answers any HTTP status at all: the server is up (JupyterHub's wait_up does the same). */
async function answers(url: string, token: string): Promise<boolean> {
  try {
    const res = await request(`${url}api`, {
      headers: { authorization: `token ${token}` },
      headersTimeout: 2000,
      bodyTimeout: 2000,
    })
    await res.body.dump()
    return true
  } catch {
    return false
  }
}

const STOP_WAIT_MS = 5000
/** Readiness checks of a starting server: the first pause, doubled after each check up to the second. */
const READY_POLL_FIRST_MS = 5
const READY_POLL_MAX_MS = 200

export function tailFile(path: string, lines = 30): string {
  try {
    const text = readFileSync(path, 'utf8')
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trim()
  } catch {
    return ''
  }
}

export class Orchestrator {
  private readonly inflight = new Map<string, Promise<void>>()
  /** Orphans already logged while spawner.removeOrphans is false, by instance key (bounded). */
  private readonly reportedOrphans = new Set<string>()
  /** Servers this process started, by instance key: whose exit notice (spawner.onExit) is whose. */
  private readonly started = new Map<string, { user: string; server: string }>()

  private readonly throttle: SpawnThrottle

  constructor(
    private readonly d: Deps,
    private readonly o: OrchestratorOptions,
  ) {
    mkdirSync(o.logDir, { recursive: true })
    // an entry outlives the longest spawn (its timeout, plus the lease for the cleanup after it)
    this.throttle = new SpawnThrottle(
      d.redis,
      { pending: d.keys.pendingSpawns, active: d.keys.runningServers, userServers: d.keys.userServers },
      { concurrent: o.concurrentSpawnLimit, active: o.activeServerLimit, namedPerUser: o.namedServerLimitPerUser },
      o.startTimeoutSec * 1000 + o.lockLeaseMs,
    )
    // a server that exits while Redis is unreachable (or after this hub let go of it) is left to the
    // next check: a rejection here would be unhandled, and Node ends the process on one
    d.spawner.onExit?.(
      (state) =>
        void this.noticeExit(state).catch((err: Error) =>
          d.log.warn("could not record a server's exit; the next check will", { err: err.message }),
        ),
    )
  }

  private ref(user: string, server: string) {
    return `${user}/${server}`
  }

  /**
   * Starts a server. Resolves 'ready' when it answered within waitSec (default slowSpawnTimeoutSec),
   * else 'pending' (the spawn goes on in the background). Throws BadRequest when it is running or
   * pending, SpawnThrottled when hub.concurrentSpawnLimit spawns are in progress, and
   * ActiveServerLimitReached when hub.activeServerLimit servers are active. `options` null: the
   * user_options recorded for the server (its last start's, or set while stopped), as JupyterHub.
   * `displayName` (JupyterHub 6's display_name of a named server) is recorded with the spawn, once
   * it is admitted: a refused start records nothing.
   */
  async start(
    user: string,
    server: string,
    requested: { [k: string]: Json } | null = {},
    { waitSec = this.o.slowSpawnTimeoutSec, displayName }: { waitSec?: number; displayName?: string } = {},
  ): Promise<'ready' | 'pending'> {
    checkServerName(server)
    if (server && !this.o.allowNamedServers)
      throw new BadRequest('named servers are not enabled on this hub', 'named_servers_disabled')
    const lock = await this.lock(user, server)
    if (!lock) throw new BadRequest(`${this.ref(user, server)} is already being started or stopped`, 'pending')
    let rec: ServerRecord | undefined
    let slot: SpawnSlot
    let options: { [k: string]: Json } = requested ?? {}
    try {
      rec = await this.d.servers.get(user, server)
      if (requested === null) options = (rec?.userOptions as { [k: string]: Json } | null) ?? {}
      await this.d.beforeSpawn(user)
      // what the owner was offered (profiles), judged now: recorded options too, as groups change
      if (this.d.spawner.checkOptions) options = this.d.spawner.checkOptions(await this.d.owner(user), options)
      if (server && !rec) checkNewServerName(server) // JupyterHub 6: older names are kept, new ones are slugs
      if (rec && rec.state !== 'stopped') {
        const status = rec.spawner ? await this.d.spawner.poll(rec.spawner) : { phase: 'stopped' as const }
        if (status.phase !== 'stopped') throw new BadRequest(`${this.ref(user, server)} is already running`, 'running')
        await this.cleanup(user, server, rec, 'server exited', lock.guard)
      }
      // hub.namedServerLimitPerUser too: judged with the entry added in one step (throttle.ts)
      slot = await this.throttle.admit(user, server, lock.fence)
    } catch (err) {
      if (err instanceof SpawnThrottled)
        this.d.log.warn('too many spawns in progress; refused one', {
          user,
          server,
          limit: this.o.concurrentSpawnLimit,
        })
      if (err instanceof ActiveServerLimitReached)
        this.d.log.info('active server limit reached; refused a start', {
          user,
          server,
          limit: this.o.activeServerLimit,
        })
      await lock.release()
      throw err
    }
    const run = this.spawn(user, server, options, lock, slot, displayName).finally(() =>
      this.inflight.delete(this.ref(user, server)),
    )
    this.inflight.set(this.ref(user, server), run)
    const ready = await Promise.race([
      run.then(
        () => true,
        () => true,
      ),
      delay(waitSec * 1000).then(() => false),
    ])
    if (ready) {
      await run // rethrows a failure
      return 'ready'
    }
    run.catch(() => {}) // failure is recorded in Redis and in the progress stream
    return 'pending'
  }

  /** Waits for every spawn running in this process (graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.inflight.values()].map((p) => p.catch(() => {})))
  }

  /** Waits for a spawn running in this process (tests, CLI). */
  async settled(user: string, server: string): Promise<void> {
    await this.inflight.get(this.ref(user, server))?.catch(() => {})
  }

  private async spawn(
    user: string,
    server: string,
    options: { [k: string]: Json },
    lock: HeldLock,
    slot: SpawnSlot,
    displayName?: string,
  ): Promise<void> {
    const { servers, progress, tokens, spawner, log } = this.d
    const baseUrl = serverBaseUrl(user, server)
    const userLogDir = join(this.o.logDir, encodeURIComponent(user))
    mkdirSync(userLogDir, { recursive: true })
    const logFile = join(userLogDir, `${server ? encodeURIComponent(server) : 'default'}.log`)
    const secret = randomBytes(24).toString('base64url')
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(new Error('start timeout')), this.o.startTimeoutSec * 1000)
    let state: SpawnerState | null = null
    const { guard, fence } = lock
    // Every side effect is preceded by a fence check, so a replica that stalled past its lease stops
    // before touching what a newer holder made (its progress stream, its server token, its process).
    const step = async (p: number, message: string) => {
      await lock.check()
      await progress.publish(user, server, { progress: p, message })
    }
    try {
      await servers.save(user, server, guard, {
        // the secret is recorded now, so another replica can take the spawn over if this one dies
        state: 'pending',
        started: new Date().toISOString(),
        stopped: null,
        message: '',
        failed: false,
        log: logFile,
        url: '',
        target: '',
        spawner: null,
        token: secret,
        userOptions: options,
        ...(displayName ? { displayName } : {}),
      })
      await lock.check()
      await progress.reset(user, server)
      await step(0, 'Server requested')
      await tokens.revokeServerTokens(user, server)
      await lock.check()
      // One secret for both: the server accepts it as its own token (JUPYTER_TOKEN), and it is the
      // server's hub API token and OAuth client secret (what jupyterhub-singleuser checks requests with).
      const issued = await tokens.issue(user, { kind: 'server', server, note: `Server at ${baseUrl}`, token: secret })
      await this.d.oauthClients.register(
        {
          id: serverClientId(user, server),
          kind: 'server',
          user,
          server,
          service: '',
          description: `Server at ${baseUrl}`,
          redirectUri: `${baseUrl}oauth_callback`,
          allowedScopes: [],
          noConfirm: false,
        },
        secret,
      )
      // JupyterHub's variables win over anything the auth state gives
      const env = { ...(await this.d.authEnv(user)), ...this.serverEnv(user, server, baseUrl, issued.token, secret) }
      await step(20, 'Starting the server')
      // the spawner's own steps (pulling an image, scheduling) go to the stream in order, between 20 and 50
      let reported = Promise.resolve()
      let steps = 0
      const report = (message: string) => {
        const p = Math.min(45, 20 + ++steps * 2)
        reported = reported.then(() => step(p, message.slice(0, 500))).catch(() => {})
      }
      try {
        state = await spawner.start({ user, server, baseUrl, env, options, logFile, progress: report }, abort.signal)
      } finally {
        await reported
      }
      this.started.set(spawner.instanceKey(state), { user, server })
      try {
        await servers.save(user, server, guard, { spawner: state })
      } catch (err) {
        // unrecorded, so certainly ours and nobody else's: undo it
        if (err instanceof FencedOut) {
          await spawner.stop(state, { graceMs: 1000 }).catch(() => {})
          await tokens.revoke(issued.record.id).catch(() => {})
        }
        throw err
      }
      await step(50, 'Server started; waiting for it to answer')
      const started = Date.now()
      let target = ''
      let url = ''
      // A server may answer within milliseconds (or take seconds): ask again soon, then less often.
      for (let wait = READY_POLL_FIRST_MS; ; wait = Math.min(READY_POLL_MAX_MS, wait * 2)) {
        abort.signal.throwIfAborted()
        const status = await spawner.poll(state)
        if (status.phase === 'stopped') {
          throw new SpawnFailed(`the server exited while starting (${status.reason ?? 'no reason given'})`, 'exited')
        }
        if (status.phase === 'running') {
          if (await answers(status.url, secret)) {
            target = status.target
            url = status.url
            break
          }
          if (Date.now() - started > this.o.httpTimeoutSec * 1000) {
            throw new SpawnFailed(`the server did not answer HTTP within ${this.o.httpTimeoutSec} s`, 'http_timeout')
          }
        }
        await delay(wait, abort.signal).catch(() => {})
      }
      await this.markReady(user, server, guard, { target, url, secret })
    } catch (err) {
      const reason = abort.signal.aborted
        ? `the server did not start within ${this.o.startTimeoutSec} s`
        : err instanceof Error
          ? err.message
          : String(err)
      try {
        if (err instanceof FencedOut) throw err
        log.warn('failed to start server', { user, server, err: reason })
        // recorded first: a newer holder's state (FencedOut) means its process is not ours to stop
        await servers.save(user, server, guard, {
          state: 'stopped',
          stopped: new Date().toISOString(),
          message: reason,
          failed: true,
          spawner: null,
          token: '',
        })
        if (state) await spawner.stop(state, { graceMs: 1000 }).catch(() => {})
        await tokens.revokeServerTokens(user, server).catch(() => {})
        await progress.publish(user, server, { progress: 100, message: `Spawn failed: ${reason}`, failed: true })
      } catch (inner) {
        if (!(inner instanceof FencedOut)) throw inner
        // This replica stalled past its lease and another one took the server over (adopted or
        // failed it): that replica's state wins, and this one writes nothing more.
        log.warn('gave up a spawn another replica took over', { user, server, fence })
        throw new SpawnFailed('the spawn was taken over by another hub replica', 'fenced_out', err)
      }
      throw err instanceof SpawnFailed ? err : new SpawnFailed(reason, 'failed', err)
    } finally {
      clearTimeout(timer)
      await slot.release().catch(() => {}) // else it counts until its entry expires
      await lock.release().catch(() => {})
    }
  }

  /** Route first, then the record: the server is reachable by the time anyone reads "running". */
  private async markReady(
    user: string,
    server: string,
    guard: Guard,
    s: { target: string; url: string; secret: string },
  ) {
    const baseUrl = serverBaseUrl(user, server)
    await this.d.tables.set(
      'routes',
      routeKey(user, server),
      { kind: 'user', target: s.target, user, server, token: s.secret },
      guard,
    )
    await this.d.servers.save(user, server, guard, { state: 'running', target: s.target, url: s.url, token: s.secret })
    await this.d.progress.publish(user, server, {
      progress: 100,
      message: `Server ready at ${baseUrl}`,
      ready: true,
      url: baseUrl,
    })
    this.d.log.info('server ready', { user, server, target: s.target })
  }

  private serverEnv(
    user: string,
    server: string,
    baseUrl: string,
    apiToken: string,
    secret: string,
  ): Record<string, string> {
    const apiUrl = `${this.o.publicUrl}/hub/api`
    const clientId = serverClientId(user, server)
    return {
      JUPYTER_TOKEN: secret,
      JUPYTERHUB_API_TOKEN: apiToken,
      JPY_API_TOKEN: apiToken,
      JUPYTERHUB_API_URL: apiUrl,
      JUPYTERHUB_BASE_URL: '/',
      JUPYTERHUB_SERVICE_PREFIX: baseUrl,
      JUPYTERHUB_USER: user,
      JUPYTERHUB_SERVER_NAME: server,
      JUPYTERHUB_CLIENT_ID: clientId,
      JUPYTERHUB_OAUTH_CALLBACK_URL: `${baseUrl}oauth_callback`,
      JUPYTERHUB_OAUTH_ACCESS_SCOPES: JSON.stringify([
        `access:servers!server=${user}/${server}`,
        `access:servers!user=${user}`,
      ]),
      JUPYTERHUB_ACTIVITY_URL: `${apiUrl}/users/${encodeURIComponent(user)}/activity`,
      // as JupyterHub: the hub's public origin when servers have hosts of their own (else their links
      // to the hub stay relative), and the public URLs of the server and of the hub
      JUPYTERHUB_HOST: this.o.subdomainHost ? new URL(this.o.publicUrl).origin : '',
      JUPYTERHUB_PUBLIC_URL: `${userOrigin(this.o.subdomainHost, user) || new URL(this.o.publicUrl).origin}${baseUrl}`,
      JUPYTERHUB_PUBLIC_HUB_URL: `${this.o.publicUrl}/hub/`,
      EDGEHUB_HUB_ID: this.o.hubId,
      ...(this.o.adminAccess ? { JUPYTERHUB_ADMIN_ACCESS: '1' } : {}),
    }
  }

  /**
   * Stops a server (idempotent); with remove, also forgets it, under the same lock. Waits a few
   * seconds for an operation that holds the lock to finish (a spawn just publishing "ready").
   */
  async stop(user: string, server: string, opts: { remove?: boolean } = {}): Promise<void> {
    checkServerName(server)
    await this.inflight.get(this.ref(user, server))?.catch(() => {})
    const lock = await waitFor(`the lock of ${this.ref(user, server)}`, () => this.lock(user, server), {
      timeoutMs: STOP_WAIT_MS,
      intervalMs: 100,
    }).catch(() => null)
    if (!lock) throw new BadRequest(`${this.ref(user, server)} is being started or stopped`, 'pending')
    try {
      const rec = await this.d.servers.get(user, server)
      if (rec && rec.state !== 'stopped') {
        await this.d.servers.save(user, server, lock.guard, { state: 'stopping' })
        // the route goes first, so no request reaches a server that is shutting down
        await this.d.tables.del('routes', routeKey(user, server), lock.guard)
        if (rec.spawner) await this.d.spawner.stop(rec.spawner, { graceMs: this.o.stopGraceSec * 1000 })
        await this.cleanup(user, server, { ...rec, state: 'stopping' }, '', lock.guard)
        this.d.log.info('server stopped', { user, server })
      }
      if (opts.remove) {
        await lock.check()
        await this.d.servers.remove(user, server)
        await this.d.shares.forgetServer(user, server) // after the record: a concurrent grant then fails
        await this.d.oauthClients.remove(serverClientId(user, server))
        await this.d.activity.forget(user, server)
      }
    } finally {
      await lock.release()
    }
  }

  private lock(user: string, server: string): Promise<HeldLock | null> {
    return acquireLock(this.d.redis, this.d.keys.serverLock(user, server), this.o.lockLeaseMs, {
      replicas: this.o.lockReplicas,
    })
  }

  /** Marks a server stopped and removes its route and tokens. */
  private async cleanup(user: string, server: string, rec: ServerRecord, message: string, guard: Guard): Promise<void> {
    if (rec.state !== 'stopping') await this.d.tables.del('routes', routeKey(user, server), guard)
    await this.d.tokens.revokeServerTokens(user, server)
    const failed = !!message
    const tail = failed && rec.log ? tailFile(rec.log, 20) : ''
    await this.d.servers.save(user, server, guard, {
      state: 'stopped',
      stopped: new Date().toISOString(),
      spawner: null,
      message: tail ? `${message}\n${tail}` : message,
      failed,
      target: '',
      url: '',
      token: '',
    })
  }

  /**
   * Checks one server; a server that died is cleaned up. Skips servers whose lock is held; a spawn or
   * stop whose replica died is failed (its process stopped) once that replica's lease has run out.
   */
  async check(user: string, server: string): Promise<void> {
    const lock = await this.lock(user, server)
    if (!lock) return // a start or stop is in progress somewhere
    try {
      const rec = await this.d.servers.get(user, server)
      if (!rec) return void (await this.d.servers.remove(user, server)) // a stale entry in the active set
      if (rec.state === 'stopped')
        return void (await this.d.servers.save(user, server, lock.guard, { state: 'stopped' }))
      const status = rec.spawner ? await this.d.spawner.poll(rec.spawner) : ({ phase: 'stopped' } as const)
      if (rec.state === 'running' && status.phase !== 'stopped') return
      if (
        rec.state === 'pending' &&
        status.phase === 'running' &&
        rec.token &&
        (await answers(status.url, rec.token))
      ) {
        // the replica that started it went away just before it was ready: finish its spawn
        await this.markReady(user, server, lock.guard, { target: status.target, url: status.url, secret: rec.token })
        this.d.log.warn('took over a spawn whose replica went away', { user, server })
        return
      }
      // stopped on its own, or a pending/stopping record whose replica went away
      if (rec.spawner && status.phase !== 'stopped')
        await this.d.spawner.stop(rec.spawner, { graceMs: this.o.stopGraceSec * 1000 })
      const why =
        rec.state === 'running'
          ? // the spawner's reason when it has one (a batch job's walltime, a failed node)
            `server exited${'reason' in status && status.reason ? `: ${status.reason}` : ''}`
          : rec.state === 'pending'
            ? 'the spawn was interrupted (its hub replica went away)'
            : ''
      await this.cleanup(user, server, rec, why, lock.guard)
      if (rec.state === 'pending')
        await this.d.progress.publish(user, server, { progress: 100, message: `Spawn failed: ${why}`, failed: true })
      this.d.log.warn('server no longer running', { user, server, was: rec.state })
    } finally {
      await lock.release()
    }
  }

  async checkAll(): Promise<void> {
    for (const { user, name } of await this.d.servers.active()) {
      if (this.inflight.has(this.ref(user, name))) continue
      try {
        // Most servers are running and still there: check() would change nothing, so it (and its
        // lock: three more round trips) is only for the others.
        const rec = await this.d.servers.get(user, name)
        if (rec?.state === 'running' && rec.spawner && (await this.d.spawner.poll(rec.spawner)).phase !== 'stopped')
          continue
        await this.check(user, name)
      } catch (err) {
        this.d.log.error('failed to check server', { user, server: name, err })
      }
    }
  }

  /**
   * Stops server processes this hub started that no record owns: left behind when a replica died
   * between starting a process and recording it, or by a spawn that was failed in its absence.
   */
  async sweepOrphans(): Promise<number> {
    if (!this.d.spawner.list) return 0
    let stopped = 0
    for (const found of await this.d.spawner.list(this.o.hubId)) {
      const owned = (rec: ServerRecord | undefined) =>
        rec && rec.state !== 'stopped' && this.sameServer(rec.spawner, found.state)
      if (owned(await this.d.servers.get(found.user, found.server))) continue
      const lock = await this.lock(found.user, found.server)
      if (!lock) continue // a spawn in progress: it will record or stop its process
      try {
        if (owned(await this.d.servers.get(found.user, found.server))) continue
        // listed a moment ago, possibly while its own stop was finishing
        if ((await this.d.spawner.poll(found.state)).phase === 'stopped') continue
        if (this.o.removeOrphans === false) {
          const key = this.d.spawner.instanceKey(found.state)
          if (this.reportedOrphans.has(key)) continue
          if (this.reportedOrphans.size >= 10_000) this.reportedOrphans.clear()
          this.reportedOrphans.add(key)
          this.d.log.warn('a server no record owns (spawner.removeOrphans is false: left running)', {
            user: found.user,
            server: found.server,
            instance: key,
          })
          continue
        }
        await this.d.spawner.stop(found.state, { graceMs: this.o.stopGraceSec * 1000 })
        this.d.log.warn('stopped a server process no record owns', {
          user: found.user,
          server: found.server,
          instance: this.d.spawner.instanceKey(found.state),
        })
        stopped++
      } finally {
        await lock.release()
      }
    }
    return stopped
  }

  private async noticeExit(state: SpawnerState): Promise<void> {
    const key = this.d.spawner.instanceKey(state)
    const ref = this.started.get(key)
    if (!ref) return
    this.started.delete(key)
    const rec = await this.d.servers.get(ref.user, ref.server)
    if (rec?.state === 'running' && this.sameServer(rec.spawner, state)) await this.check(ref.user, ref.server)
  }

  private sameServer(a: SpawnerState | null | undefined, b: SpawnerState): boolean {
    return !!a && this.d.spawner.instanceKey(a) === this.d.spawner.instanceKey(b)
  }

  /**
   * Stops every server (`edgehub up` on shutdown, POST /hub/api/shutdown). A server that fails to
   * stop is logged; `edgehub up` then stops what is left by the mark its process carries.
   */
  async stopAll(): Promise<void> {
    await Promise.all(
      (await this.d.servers.active()).map(({ user, name }) =>
        this.stop(user, name).catch((err: Error) =>
          this.d.log.warn('failed to stop a server', { user, server: name, err: err.message }),
        ),
      ),
    )
  }
}
