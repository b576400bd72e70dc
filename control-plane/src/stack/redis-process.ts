// A private redis-server for the one-machine stack and for tests: loopback only, AOF on, data in dir
// (mode 0700: the AOF holds every secret). With acl, only the hub's and the proxy's ACL users may log
// in (redis-acl.ts); the default user is off.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { startChild, type Child } from '../../../runtime/src/child'
import { waitFor } from '../../../runtime/src/wait'
import { prepareRedisAcl, type RedisCredentials } from './redis-acl'

export interface RedisProcessOptions {
  dir: string
  port: number
  bind?: string
  appendonly?: boolean
  command?: string
  /** Its own process group (the one-machine stack's supervisor; see ChildSpec.ownGroup). */
  ownGroup?: boolean
  /** Gives up the start (and stops the process) when aborted. */
  signal?: AbortSignal
  /** Log-ins for the hub and the proxy only, their rules for keys under prefix; no default user. */
  acl?: { prefix: string }
}

export interface RedisProcess {
  child: Child
  /** With acl: carries the hub's user name and password. */
  url: string
  port: number
  /** With acl: the hub's and the proxy's log-ins. */
  credentials?: RedisCredentials
  stop(): Promise<void>
}

export async function startRedis(opts: RedisProcessOptions): Promise<RedisProcess> {
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 })
  chmodSync(opts.dir, 0o700)
  const conf = join(opts.dir, 'redis.conf')
  const bind = opts.bind ?? '127.0.0.1'
  const acl = opts.acl ? prepareRedisAcl(opts.dir, opts.acl.prefix) : undefined
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
      ...(acl ? [`aclfile ${acl.aclFile}`] : []),
      '',
    ].join('\n'),
    { mode: 0o600 },
  )
  chmodSync(conf, 0o600)
  const child = startChild({
    name: 'redis',
    command: opts.command ?? 'redis-server',
    args: [conf],
    logFile: join(opts.dir, 'redis.log'),
    ownGroup: opts.ownGroup,
  })
  const hub = acl?.creds.hub
  const url = `redis://${hub ? `${hub.username}:${hub.password}@` : ''}${bind}:${opts.port}`
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  probe.on('error', () => {}) // refused until redis listens; waitFor reports the outcome
  let foreign: Error | undefined
  const died = child.exited.then((code) => {
    throw new Error(`redis-server exited with code ${code} (see ${opts.dir}/redis.log)`)
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
        { timeoutMs: 15_000, signal: opts.signal },
      ),
    ])
    if (foreign) throw foreign
  } catch (err) {
    await child.stop()
    throw err
  } finally {
    probe.disconnect()
  }
  return { child, url, port: opts.port, credentials: acl?.creds, stop: () => child.stop() }
}
