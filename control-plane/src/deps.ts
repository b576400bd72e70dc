// Builds everything the app needs from the config. No module reads the environment; this is the wiring.
import { join } from 'node:path'
import { Redis } from 'ioredis'
import type { Config } from './config/schema'
import { createLogger, type Logger } from './log'
import { keyNames, type KeyNames } from './state/keys'
import { ProxyTables } from './state/proxy-tables'
import { Users } from './state/users'
import { Tokens } from './state/tokens'
import { Servers } from './state/servers'
import { CookieKeys } from './sessions/cookie-keys'
import { Sessions } from './sessions/sessions'
import { Progress } from './spawn/progress'
import { Orchestrator } from './spawn/orchestrator'
import type { Authenticator } from '../../auth/src/authenticator'
import { createNativeAuthenticator } from '../../auth/src/native'
import { createDummyAuthenticator } from '../../auth/src/dummy'
import { createLocalProcessSpawner } from '../../spawners/src/local-process'
import type { Spawner } from '../../spawners/src/spawner'

export interface Deps {
  config: Config
  log: Logger
  redis: Redis
  keys: KeyNames
  tables: ProxyTables
  users: Users
  tokens: Tokens
  servers: Servers
  cookieKeys: CookieKeys
  sessions: Sessions
  progress: Progress
  spawner: Spawner
  orchestrator: Orchestrator
  authenticator: Authenticator
  native?: ReturnType<typeof createNativeAuthenticator>
  publicUrl: string
  close(): Promise<void>
}

export function redisUrl(config: Config): string {
  return config.redis.url ?? `redis://127.0.0.1:${config.redis.port}`
}

export function publicUrl(config: Config): string {
  return (config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`).replace(/\/$/, '')
}

export async function buildDeps(config: Config, opts: { log?: Logger; redis?: Redis } = {}): Promise<Deps> {
  const log = opts.log ?? createLogger('hub', { level: config.logLevel })
  const redis = opts.redis ?? new Redis(redisUrl(config), { maxRetriesPerRequest: 3, lazyConnect: true })
  if (!opts.redis) await redis.connect()
  const keys = keyNames(config.redis.prefix)
  const tables = new ProxyTables(redis, config.redis.prefix, config.redis.streamMaxLen)
  const users = new Users(redis, keys, tables)
  const tokens = new Tokens(redis, keys, tables)
  const servers = new Servers(redis, keys)
  const cookieKeys = new CookieKeys(redis, keys, tables)
  const sessions = new Sessions(redis, keys, tables, cookieKeys, config.sessions.maxAgeSec)
  const progress = new Progress(redis, keys)
  const lp = config.spawner['local-process']
  const spawner = createLocalProcessSpawner({ ...lp, dataDir: config.dataDir, log: log.child('spawner.local-process') })
  const pub = publicUrl(config)
  const orchestrator = new Orchestrator(
    { redis, keys, servers, tables, tokens, progress, spawner, log: log.child('spawn') },
    {
      startTimeoutSec: config.spawner.startTimeoutSec,
      httpTimeoutSec: config.spawner.httpTimeoutSec,
      stopGraceSec: config.spawner.stopGraceSec,
      slowSpawnTimeoutSec: config.hub.slowSpawnTimeoutSec,
      publicUrl: pub,
      logDir: join(config.dataDir, 'logs', 'servers'),
      adminAccess: config.proxy.adminAccess,
      allowNamedServers: config.hub.allowNamedServers,
      namedServerLimitPerUser: config.hub.namedServerLimitPerUser,
    },
  )
  const native =
    config.auth.kind === 'native'
      ? createNativeAuthenticator({ users, ...config.auth.native })
      : undefined
  const authenticator = native ?? createDummyAuthenticator(config.auth.dummy)
  return {
    config, log, redis, keys, tables, users, tokens, servers, cookieKeys, sessions, progress, spawner, orchestrator, authenticator, native, publicUrl: pub,
    async close() {
      if (!opts.redis) redis.disconnect()
    },
  }
}
