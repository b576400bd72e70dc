// The one-machine stack's private redis-server (runtime/src/redis-server.ts): loopback only, AOF on,
// data in dir (mode 0700: the AOF holds every secret). With acl, only the hub's and the proxy's ACL
// users may log in (redis-acl.ts); the default user is off.
import type { Child } from '../../../runtime/src/child'
import { startRedisServer } from '../../../runtime/src/redis-server'
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
  const { acl: aclOpts, ...server } = opts
  const acl = aclOpts ? prepareRedisAcl(opts.dir, aclOpts.prefix) : undefined
  const started = await startRedisServer({ ...server, aclFile: acl?.aclFile, login: acl?.creds.hub })
  return { ...started, credentials: acl?.creds }
}
