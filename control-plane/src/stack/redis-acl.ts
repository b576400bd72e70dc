// Who may talk to the private Redis of `edgehub up`, and how much: two Redis ACL users, the hub's and
// the proxy's, and no default user. Their passwords are generated at the first start and kept in the
// Redis directory (credentials.json, mode 0600, the directory 0700); the ACL file Redis loads (users.acl,
// 0600) holds only their SHA-256 digests. The rules are written again at every start, so a data
// directory from before ACLs, or a changed redis.prefix, gets the current ones.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'

export interface RedisLogin {
  username: string
  password: string
}

export interface RedisCredentials {
  hub: RedisLogin
  proxy: RedisLogin
}

export const HUB_REDIS_USER = 'edgehub-hub'
export const PROXY_REDIS_USER = 'edgehub-proxy'
export const CREDENTIALS_FILE = 'credentials.json'
export const ACL_FILE = 'users.acl'

/** Where `edgehub up` keeps its private Redis (data, redis.conf, the ACL and the credentials). */
export const privateRedisDir = (dataDir: string) => join(dataDir, 'redis')

/**
 * The hub's rules: every command but the dangerous ones (FLUSHALL, KEYS, CONFIG, ACL, DEBUG,
 * MONITOR, SHUTDOWN, …) on the keys and channels under the prefix; INFO for ioredis's ready check
 * and ROLE for its Sentinel check of the master.
 */
export function hubAclRules(prefix: string): string {
  return `resetkeys ~${prefix}* resetchannels &${prefix}* -@all +@all -@dangerous +info +role`
}

/**
 * The proxy's rules: read the proxy tables, their version and the change stream (`P proxy:*`: one
 * MULTI/EXEC snapshot, XREAD), and merge activity into `P activity` (an EVAL of HGET/HSET, which Redis
 * checks against these same rules); ROLE to check a master Sentinel named. Nothing else: no user,
 * session or token record, no write to the proxy tables.
 */
export function proxyAclRules(prefix: string): string {
  return (
    `resetkeys %R~${prefix}proxy:* %RW~${prefix}activity resetchannels -@all ` +
    '+ping +select +role +multi +exec +get +hgetall +xread +eval +hget +hset'
  )
}

/**
 * The default user, which anyone who reaches the port would be: off, so that no connection is let in
 * as it and no AUTH succeeds for it. Its rules stay open: Redis replays the AOF as the default user
 * and, until redis/redis#14545 (not in Debian 12's 7.0), re-checks its rules at each EXEC, so with
 * -@all every transaction and script effect in the AOF would be dropped at the next start.
 */
export const DEFAULT_USER_LINE = 'user default off resetpass ~* &* +@all'

const digest = (password: string) => createHash('sha256').update(password).digest('hex')

/** The ACL file's lines (passwords as SHA-256 digests only). */
export function aclFileText(creds: RedisCredentials, prefix: string): string {
  return [
    DEFAULT_USER_LINE,
    `user ${creds.hub.username} on resetpass #${digest(creds.hub.password)} ${hubAclRules(prefix)}`,
    `user ${creds.proxy.username} on resetpass #${digest(creds.proxy.password)} ${proxyAclRules(prefix)}`,
    '',
  ].join('\n')
}

const newPassword = () => randomBytes(32).toString('hex')

function isLogin(v: unknown): v is RedisLogin {
  const l = v as RedisLogin
  return (
    !!l &&
    typeof l.username === 'string' &&
    /^[A-Za-z0-9_.-]{1,64}$/.test(l.username) &&
    typeof l.password === 'string' &&
    /^[0-9a-f]{32,128}$/.test(l.password)
  )
}

/** The credentials kept in dir, or undefined when there are none (or they cannot be read by this user). */
export function readRedisCredentials(dir: string): RedisCredentials | undefined {
  let text: string
  try {
    text = readFileSync(join(dir, CREDENTIALS_FILE), 'utf8')
  } catch {
    return undefined
  }
  const c = JSON.parse(text) as Partial<RedisCredentials>
  if (!isLogin(c.hub) || !isLogin(c.proxy))
    throw new Error(
      `${join(dir, CREDENTIALS_FILE)} does not hold a hub and a proxy login; remove it to have new ones made at the next start`,
    )
  return { hub: c.hub, proxy: c.proxy }
}

/** Writes text to path, readable by this user only, replacing what was there in one step. */
function writePrivate(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, text, { mode: 0o600 })
  chmodSync(tmp, 0o600) // an earlier leftover of the same name kept its mode
  renameSync(tmp, path)
}

/**
 * Readies dir for a Redis with ACLs: the directory (0700, also when it was made before), the
 * credentials (made now when there are none) and the ACL file for prefix. Returns the credentials.
 */
export function prepareRedisAcl(dir: string, prefix: string): { creds: RedisCredentials; aclFile: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700) // holds the AOF too: every session, token digest and cookie key
  let creds = readRedisCredentials(dir)
  if (!creds) {
    creds = {
      hub: { username: HUB_REDIS_USER, password: newPassword() },
      proxy: { username: PROXY_REDIS_USER, password: newPassword() },
    }
    const path = join(dir, CREDENTIALS_FILE)
    if (existsSync(path)) throw new Error(`${path} exists but cannot be read by this user`)
    writePrivate(path, `${JSON.stringify(creds, null, 2)}\n`)
  }
  const aclFile = join(dir, ACL_FILE)
  writePrivate(aclFile, aclFileText(creds, prefix))
  return { creds, aclFile }
}
