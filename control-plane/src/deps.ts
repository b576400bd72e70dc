// Builds everything the app needs from the config. No module reads the environment; this is the wiring.
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Redis, type RedisOptions } from 'ioredis'
import type { Config } from './config/schema'
import { createLogger, type Logger } from '../../runtime/src/log'
import { keyNames, type KeyNames } from './state/keys'
import { ProxyTables } from './state/proxy-tables'
import { Users } from './state/users'
import { Tokens } from './state/tokens'
import { Servers } from './state/servers'
import { CookieKeys } from './sessions/cookie-keys'
import { Sessions } from './sessions/sessions'
import { Progress } from './spawn/progress'
import { Orchestrator } from './spawn/orchestrator'
import { ServerEdits } from './spawn/server-edits'
import { Activity } from './state/activity'
import { UserBundles } from './state/user-bundles'
import { Groups } from './state/groups'
import { AuthStates, CryptKeeper } from './state/auth-state'
import { refreshUser } from './sessions/refresh'
import { Shares } from './state/shares'
import { Roles } from './scopes/roles'
import { OAuthClients } from './oauth/clients'
import { OAuthCodes } from './oauth/codes'
import { createAuthenticator, type Authenticator, type PasswordManagement } from '../../auth/src'
import { SPAWNERS, type Spawner, type SpawnerKind, type SpawnerPlugin } from '../../spawners/src'
import { ServerReportStore } from './state/server-reports'
import { RedisAvailability } from './http/redis-gate'
import { checkStackId, readStackId } from './stack/identity'
import { hubRedisAuth, proxyRedisAuth, usesPrivateRedis } from './redis-auth'
import { CREDENTIALS_FILE, privateRedisDir } from './stack/redis-acl'
import { HubError, Unavailable } from '../../runtime/src/errors'

export interface Deps {
  config: Config
  log: Logger
  redis: Redis
  /** Whether Redis is reachable now; requests wait redis.waitSec for it, then get 503. */
  redisAvailability: RedisAvailability
  keys: KeyNames
  tables: ProxyTables
  users: Users
  tokens: Tokens
  groups: Groups
  roles: Roles
  shares: Shares
  oauthClients: OAuthClients
  oauthCodes: OAuthCodes
  servers: Servers
  cookieKeys: CookieKeys
  sessions: Sessions
  progress: Progress
  activity: Activity
  userBundles: UserBundles
  spawner: Spawner
  orchestrator: Orchestrator
  /** Changes to stopped servers (JupyterHub 6's PUT and PATCH of a server, a start's display name). */
  serverEdits: ServerEdits
  authenticator: Authenticator
  /** Users' auth state (encrypted) and when the authenticator last checked them. */
  authStates: AuthStates
  /** The authenticator's password management, when the hub keeps the passwords (native): its capability, not its kind. */
  passwords?: PasswordManagement
  publicUrl: string
  /** This hub's identity across replicas and restarts (kept in Redis); marks its server processes. */
  hubId: string
  /** Redis had no hub id before this process named it (a new stack, or a wiped Redis). */
  hubIdNamedNow: boolean
  close(): Promise<void>
}

export function redisUrl(config: Config): string {
  return config.redis.url ?? `redis://127.0.0.1:${config.redis.port}`
}

function parseHostPort(hp: string): { host: string; port: number } {
  const i = hp.lastIndexOf(':')
  return { host: hp.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(hp.slice(i + 1)) }
}

/** Where the proxies find Redis (the standalone address, or the sentinels to ask for the master) and their log-in. */
export function redisTarget(config: Config) {
  const u = new URL(redisUrl(config))
  const { username, password } = proxyRedisAuth(config)
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined
  const s = config.redis.sentinel
  if (!s) return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379), username, password, db }
  return {
    username,
    password,
    db,
    sentinel: {
      hosts: s.hosts.map(parseHostPort),
      masterName: s.masterName,
      username: s.username,
      password: s.password,
    },
  }
}

/**
 * ioredis options shared by every hub connection: commands wait (queued) through a Redis restart or
 * Sentinel failover of a few seconds instead of failing at once, and a connection that finds itself
 * on a demoted master reconnects.
 */
export function redisOptions(config: Config): RedisOptions {
  const { username, password } = hubRedisAuth(config)
  const base: RedisOptions = {
    username,
    password,
    lazyConnect: true,
    // commands issued in the same tick (concurrent requests, Promise.all) go out in one write
    enableAutoPipelining: true,
    maxRetriesPerRequest: 12,
    retryStrategy: (times) => Math.min(100 * times, 1000),
    // a Redis that restarts answers "loading" while it reads its AOF; ioredis would check again
    // only after loading_eta_seconds (at least 1 s), a whole redis.waitSec
    maxLoadingRetryTime: 100,
    reconnectOnError: (err) => (/^(READONLY|LOADING|MASTERDOWN)/.test(err.message) ? 2 : false),
  }
  const s = config.redis.sentinel
  if (!s) return base
  const u = new URL(redisUrl(config))
  return {
    ...base,
    sentinels: s.hosts.map(parseHostPort),
    name: s.masterName,
    sentinelUsername: s.username,
    sentinelPassword: s.password,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined,
    sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
  }
}

/** A hub connection to Redis; connection trouble is logged once per outage (ioredis retries on its own). */
export function createRedis(config: Config, log: Logger): Redis {
  // the log-in comes from redisOptions (hubRedisAuth): a user name or password left in the URL would win over it
  const url = new URL(redisUrl(config))
  url.username = url.password = ''
  const redis = config.redis.sentinel
    ? new Redis(redisOptions(config))
    : new Redis(url.toString(), redisOptions(config))
  // the first connection's failure is connectRedis's to report, in one line
  let down = true
  let connected = false
  redis.on('error', (err: Error) => {
    if (!down) log.warn('lost the connection to Redis; retrying', { err: err.message })
    down = true
  })
  redis.on('ready', () => {
    if (connected) log.info('connected to Redis again')
    down = false
    connected = true
  })
  return redis
}

/** Where the config says Redis is, without its password, and the setting that says so. */
export function redisWhere(config: Config): string {
  if (config.redis.sentinel) return `the sentinels ${config.redis.sentinel.hosts.join(', ')} (redis.sentinel.hosts)`
  const u = new URL(redisUrl(config))
  return `${u.host} (${config.redis.url ? 'redis.url' : 'redis.port'})`
}

/**
 * The first connection: Unavailable with one line naming the address, the setting and the reason
 * (refused, not a Redis server, wrong password) when Redis does not answer within timeoutMs.
 */
export async function connectRedis(redis: Redis, config: Config, timeoutMs = 5000): Promise<void> {
  let reason = ''
  const onError = (err: Error) => (reason ||= err.message)
  redis.on('error', onError)
  try {
    const answered = await Promise.race([
      redis.connect().then(
        () => true,
        () => false,
      ),
      new Promise<false>((r) => setTimeout(r, timeoutMs, false).unref()),
    ])
    if (answered && redis.status === 'ready') return
    redis.disconnect()
    // a refused log-in first: ioredis's HELLO refused with NOAUTH names RESP in its message
    if (/^(NOAUTH|WRONGPASS|NOPERM)/.test(reason)) {
      reason = /^WRONGPASS/.test(reason)
        ? 'it refused the user name and password (WRONGPASS)'
        : /^NOPERM/.test(reason)
          ? `it refused a command to this user (${reason})`
          : 'it wants a user name and password (NOAUTH)'
      if (usesPrivateRedis(config))
        reason += `; the hub logs in with ${privateRedisDir(config.dataDir)}/${CREDENTIALS_FILE}, which only the user that ran edgehub up can read`
    } else if (/RESP|Protocol error/i.test(reason)) reason = 'it answered, but not as a Redis server does'
    throw new Unavailable(
      `cannot reach Redis at ${redisWhere(config)}: ${reason || `no answer within ${timeoutMs / 1000} s`}`,
    )
  } finally {
    redis.off('error', onError)
  }
}

/** redis.waitSec in ms: 1 s, or 6 s under Sentinel (a failover takes down-after-milliseconds + an election). */
export function redisWaitMs(config: Config): number {
  return (config.redis.waitSec ?? (config.redis.sentinel ? 6 : 1)) * 1000
}

export function publicUrl(config: Config): string {
  return (
    config.publicUrl ??
    config.subdomainHost ??
    `${config.proxy.tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`
  ).replace(/\/$/, '')
}

export async function buildDeps(config: Config, opts: { log?: Logger; redis?: Redis } = {}): Promise<Deps> {
  const log = opts.log ?? createLogger('hub', { level: config.logLevel })
  const redis = opts.redis ?? createRedis(config, log.child('redis'))
  if (!opts.redis) await connectRedis(redis, config)
  const redisAvailability = new RedisAvailability(redis, redisWaitMs(config))
  const keys = keyNames(config.redis.prefix)
  // The first replica ever names the hub, with its stack's id when the data directory keeps one;
  // a data directory keeping another id than Redis is another stack's: refuse (stack/identity.ts).
  const hubIdNamedNow =
    (await redis.set(keys.hubId, readStackId(config.dataDir) ?? randomBytes(9).toString('base64url'), 'NX')) === 'OK'
  const hubId = (await redis.get(keys.hubId))!
  checkStackId(hubId, config.dataDir, redisWhere(config))
  const tables = new ProxyTables(redis, config.redis.prefix, config.redis.streamMaxLen)
  const users = new Users(redis, keys, tables)
  const tokens = new Tokens(redis, keys, tables)
  const groups = new Groups(redis, keys)
  const roles = new Roles(config.roles, config.proxy.adminAccess)
  const shares = new Shares(redis, keys, { groups, roles, tables, redis, keys })
  const oauthClients = new OAuthClients(redis, keys)
  const oauthCodes = new OAuthCodes(redis, keys)
  const servers = new Servers(redis, keys)
  const cookieKeys = new CookieKeys(redis, keys, tables)
  const sessions = new Sessions(redis, keys, tables, cookieKeys, config.sessions.maxAgeSec)
  const progress = new Progress(redis, keys)
  const activity = new Activity(redis, keys)
  const userBundles = new UserBundles(redis, keys)
  const kind = config.spawner.kind
  // any kind's plug-in, given its own settings
  const plugin: SpawnerPlugin<(typeof SPAWNERS)[SpawnerKind]['settings']> = SPAWNERS[kind]
  const spawner = plugin.create(config.spawner[kind], {
    defaultUrl: config.spawner.defaultUrl,
    dataDir: config.dataDir,
    log: log.child(`spawner.${kind}`),
    serverReports: new ServerReportStore(redis, config.redis.prefix),
  })
  const pub = publicUrl(config)
  const orchestrator = new Orchestrator(
    {
      redis,
      keys,
      servers,
      tables,
      tokens,
      oauthClients,
      shares,
      progress,
      activity,
      spawner,
      // the authenticator's say: a refresh before the start (auth.refreshBeforeSpawn), and what of the
      // auth state the server gets (spawnEnv); bound late, as refreshUser needs every part
      beforeSpawn: async (name) => {
        if (!config.auth.refreshBeforeSpawn || !authenticator.refresh) return
        if ((await refreshUser(deps, name, { force: true })) === 'expired')
          throw new HubError(403, `${name}'s login has ended: log in again before starting a server`, 'login_expired')
      },
      authEnv: async (name) =>
        authenticator.spawnEnv ? authenticator.spawnEnv(await authStates.get(name), await authStates.via(name)) : {},
      owner: async (name) => {
        const [record, inGroups] = await Promise.all([users.get(name), groups.ofUser(name)])
        return { name, groups: inGroups, admin: record?.admin ?? false }
      },
      log: log.child('spawn'),
    },
    {
      startTimeoutSec: config.spawner.startTimeoutSec,
      httpTimeoutSec: config.spawner.httpTimeoutSec,
      stopGraceSec: config.spawner.stopGraceSec,
      removeOrphans: config.spawner.removeOrphans,
      slowSpawnTimeoutSec: config.hub.slowSpawnTimeoutSec,
      publicUrl: pub,
      subdomainHost: config.subdomainHost,
      logDir: join(config.dataDir, 'logs', 'servers'),
      adminAccess: config.proxy.adminAccess,
      allowNamedServers: config.hub.allowNamedServers,
      namedServerLimitPerUser: config.hub.namedServerLimitPerUser,
      concurrentSpawnLimit: config.hub.concurrentSpawnLimit,
      activeServerLimit: config.hub.activeServerLimit,
      lockLeaseMs: config.hub.serverLockLeaseSec * 1000,
      lockReplicas: config.redis.sentinel ? 1 : 0,
      hubId,
    },
  )
  const serverEdits = new ServerEdits({
    redis,
    keys,
    servers,
    shares,
    oauthClients,
    activity,
    config,
    log: log.child('spawn'),
  })
  const authenticator = createAuthenticator(config.auth, { accounts: users })
  const authStates = new AuthStates(redis, keys, new CryptKeeper(config.auth.cryptKeys), config.auth.enableAuthState)
  const deps: Deps = {
    config,
    log,
    redis,
    redisAvailability,
    hubIdNamedNow,
    keys,
    tables,
    users,
    tokens,
    groups,
    roles,
    shares,
    oauthClients,
    oauthCodes,
    servers,
    cookieKeys,
    sessions,
    progress,
    activity,
    userBundles,
    spawner,
    orchestrator,
    serverEdits,
    authenticator,
    authStates,
    passwords: authenticator.passwords,
    publicUrl: pub,
    hubId,
    async close() {
      if (!opts.redis) redis.disconnect()
    },
  }
  return deps
}
