// The operator's commands of this folder, as the command line runs them: each prints what it did,
// never a secret (no key, token, password or configuration value).
import { resolve } from 'node:path'
import { loadConfig } from '../config/load'
import type { Config } from '../config/schema'
import { portProblem } from '../../../runtime/src/port-holders'
import { usesPrivateRedis } from '../redis-auth'
import { privateRedisDir } from '../stack/redis-acl'
import { startRedis, type RedisProcess } from '../stack/redis-process'
import { backupStack, openStackRedis } from './backup'
import { readBackupFile } from './backup-file'
import { checkBackupSchema, restoreCredentials, restoreRedis } from './restore'

const out = (line: string) => process.stdout.write(`${line}\n`)

export async function backupCommand(configFile: string | undefined, file: string): Promise<void> {
  const { config, file: usedConfig } = loadConfig({ file: configFile })
  const redis = await openStackRedis(config)
  try {
    const s = await backupStack(config, usedConfig, resolve(file), redis)
    out(
      `backed up ${s.keys} Redis keys (schema version ${s.schemaVersion}) and ${s.files.length ? s.files.join(', ') : 'no data-directory files'}${usedConfig ? ` and ${usedConfig}` : ''} to ${resolve(file)} (${s.bytes} bytes, mode 0600: it holds every secret of the stack)`,
    )
  } finally {
    redis.disconnect()
  }
}

/**
 * The private Redis of `edgehub up` while the stack is stopped (its port free): started for the
 * restore, with the data directory's log-ins, and stopped after it. undefined when Redis is not
 * the private one or runs already.
 */
async function privateRedisIfStopped(config: Config): Promise<RedisProcess | undefined> {
  if (!usesPrivateRedis(config)) return undefined
  if (!(await portProblem([{ setting: 'redis.port', host: '127.0.0.1', port: config.redis.port }]))) {
    return startRedis({
      dir: privateRedisDir(config.dataDir),
      port: config.redis.port,
      acl: { prefix: config.redis.prefix },
    })
  }
  return undefined
}

export async function restoreCommand(configFile: string | undefined, file: string, force: boolean): Promise<void> {
  const { config } = loadConfig({ file: configFile })
  const backup = readBackupFile(resolve(file))
  checkBackupSchema(file, backup)
  const creds = restoreCredentials(config, backup)
  const started = await privateRedisIfStopped(config)
  try {
    const redis = await openStackRedis(config)
    try {
      const r = await restoreRedis(config, redis, backup, force)
      out(
        `restored ${r.keys} Redis keys from ${resolve(file)} (edgehub ${backup.edgehubVersion}, ${backup.created}, schema version ${backup.schemaVersion})${r.replaced ? `, replacing ${r.replaced}` : ''}; proxies resync at version ${r.proxyVersion}`,
      )
      if (r.stackIdWritten) out(`wrote the stack's id into ${config.dataDir}/stack-id`)
      if (r.configCopy)
        out(`the backup's configuration (${backup.config?.path}) is in ${r.configCopy}: compare it with the one in use`)
    } finally {
      redis.disconnect()
    }
  } finally {
    await started?.stop()
  }
  if (creds.written) out(`wrote the Redis log-ins into ${privateRedisDir(config.dataDir)}`)
  if (creds.kept) out(`kept this data directory's Redis log-ins (the Redis was made with them)`)
}
