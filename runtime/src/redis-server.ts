// A private redis-server process: loopback by default, AOF on unless asked otherwise, data in dir (mode
// 0700: the AOF holds every secret), started and waited for until it answers, stopped by pid. The
// one-machine stack (control-plane/src/stack/redis-process.ts, which adds the hub's and the proxy's
// ACL log-ins) and the tests' harness start Redis through this one function.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { startChild, type Child } from './child'
import { waitFor } from './wait'

export interface RedisServerOptions {
  dir: string
  port: number
  bind?: string
  /** Off: no AOF (a scratch Redis). Default on. */
  appendonly?: boolean
  /** Another redis-server binary (or a wrapper), for fault tests. */
  command?: string
  /** Its own process group (the one-machine stack's supervisor; see ChildSpec.ownGroup). */
  ownGroup?: boolean
  /** Gives up the start (and stops the process) when aborted. */
  signal?: AbortSignal
  /** An ACL file for the server (`aclfile`); login is then who the readiness probe logs in as. */
  aclFile?: string
  /** The log-in the returned url carries (and the probe uses). */
  login?: { username: string; password: string }
  /** How long it may take to answer; default 15 s. */
  timeoutMs?: number
}

export interface RedisServerProcess {
  child: Child
  /** redis://[login@]bind:port */
  url: string
  port: number
  /** SIGTERM (AOF flushed), waits for the exit. */
  stop(): Promise<void>
}

export async function startRedisServer(opts: RedisServerOptions): Promise<RedisServerProcess> {
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 })
  chmodSync(opts.dir, 0o700)
  const conf = join(opts.dir, 'redis.conf')
  const bind = opts.bind ?? '127.0.0.1'
  writeFileSync(
    conf,
    [
      `bind ${bind}`,
      'protected-mode yes',
      `port ${opts.port}`,
      `dir ${opts.dir}`,
      `appendonly ${opts.appendonly === false ? 'no' : 'yes'}`,
      'appendfsync everysec',
      'save ""',
      'daemonize no',
      'loglevel warning',
      ...(opts.aclFile ? [`aclfile ${opts.aclFile}`] : []),
      '',
    ].join('\n'),
    { mode: 0o600 },
  )
  chmodSync(conf, 0o600)
  const log = join(opts.dir, 'redis.log')
  const child = startChild({
    name: 'redis',
    command: opts.command ?? 'redis-server',
    args: [conf],
    logFile: log,
    ownGroup: opts.ownGroup,
  })
  const login = opts.login
  const url = `redis://${login ? `${login.username}:${login.password}@` : ''}${bind}:${opts.port}`
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  probe.on('error', () => {}) // refused until redis listens; waitFor reports the outcome
  let foreign: Error | undefined
  const died = child.exited.then((code) => {
    throw new Error(`redis-server exited with code ${code} (see ${log})`)
  })
  died.catch(() => {})
  try {
    await Promise.race([
      died,
      waitFor(
        `redis on port ${opts.port}`,
        async () => {
          try {
            if (probe.status !== 'ready') await probe.connect()
            // The server answering must be this one, not another Redis already on the port (this
            // one then fails to bind and exits a moment later).
            const pid = Number(/process_id:(\d+)/.exec(await probe.info('server'))?.[1])
            if (pid !== child.proc.pid) foreign = new Error(`port ${opts.port} is held by another Redis (pid ${pid})`)
            return true
          } catch {
            probe.disconnect()
            return false
          }
        },
        { timeoutMs: opts.timeoutMs ?? 15_000, intervalMs: 20, signal: opts.signal },
      ),
    ])
    if (foreign) throw foreign
  } catch (err) {
    await child.stop()
    throw err
  } finally {
    probe.disconnect()
  }
  return { child, url, port: opts.port, stop: () => child.stop() }
}
