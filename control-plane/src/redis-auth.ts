// Who the hub and the proxies log in to Redis as. The hub: the user and password of redis.url (the
// password may come from redis.passwordFile instead). The proxies: proxy.redis when given, else the
// hub's log-in. Without redis.url and redis.sentinel (the private Redis of `edgehub up`): the users
// that Redis was made with, from its credentials file in the data directory (stack/redis-acl.ts).
import { readFileSync } from 'node:fs'
import type { Config } from './config/schema'
import { ConfigError } from '../../runtime/src/errors'
import { privateRedisDir, readRedisCredentials } from './stack/redis-acl'

export interface RedisAuth {
  username?: string
  password?: string
}

/** The first line of a password file; a ConfigError naming the setting when it cannot be read. */
function passwordFromFile(setting: string, path: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(
      `edgehub: ${setting}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    )
  }
  const password = text.split(/\r?\n/)[0]
  if (!password)
    throw new ConfigError(`edgehub: ${setting}: ${path} is empty (expected the password on its first line)`)
  return password
}

/** Whether the config names no Redis of its own: `edgehub up` runs one on redis.port. */
export const usesPrivateRedis = (config: Config) => !config.redis.url && !config.redis.sentinel

/** The private Redis's log-ins, when this user can read them (the user that ran `edgehub up`). */
function privateLogins(config: Config) {
  return usesPrivateRedis(config) ? readRedisCredentials(privateRedisDir(config.dataDir)) : undefined
}

/** The hub's Redis log-in. */
export function hubRedisAuth(config: Config): RedisAuth {
  if (usesPrivateRedis(config)) return { ...privateLogins(config)?.hub }
  const u = new URL(config.redis.url ?? 'redis://localhost')
  const auth: RedisAuth = {
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
  }
  if (config.redis.passwordFile) auth.password = passwordFromFile('redis.passwordFile', config.redis.passwordFile)
  return auth
}

/** The proxies' Redis log-in. */
export function proxyRedisAuth(config: Config): RedisAuth {
  const p = config.proxy.redis
  if (p && (p.username || p.password || p.passwordFile)) {
    return {
      username: p.username,
      password: p.passwordFile ? passwordFromFile('proxy.redis.passwordFile', p.passwordFile) : p.password,
    }
  }
  if (usesPrivateRedis(config)) return { ...privateLogins(config)?.proxy }
  return hubRedisAuth(config)
}
