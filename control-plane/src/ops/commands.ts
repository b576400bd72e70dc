// The operator's commands of this folder, as the command line runs them: each prints what it did,
// never a secret (no key, token, password or configuration value).
import { join, resolve } from 'node:path'
import { stringify as yaml } from 'yaml'
import { loadConfig } from '../config/load'
import type { Config } from '../config/schema'
import { buildDeps } from '../deps'
import { createLogger } from '../../../runtime/src/log'
import { readJupyterHubDb } from './jupyterhub-db'
import { importJupyterHub } from './jupyterhub-import'
import { writePrivateFile } from './private-file'
import { portProblem } from '../../../runtime/src/port-holders'
import { usesPrivateRedis } from '../redis-auth'
import { privateRedisDir } from '../stack/redis-acl'
import { startRedis, type RedisProcess } from '../stack/redis-process'
import { backupStack, openStackRedis } from './backup'
import { readBackupFile } from './backup-file'
import { checkBackupSchema, restoreCredentials, restoreRedis, shown } from './restore'

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
        `restored ${r.keys} Redis keys from ${resolve(file)} (edgehub ${shown(backup.edgehubVersion)}, ${shown(backup.created)}, schema version ${backup.schemaVersion})${r.replaced ? `, replacing ${r.replaced}` : ''}; proxies resync at version ${r.proxyVersion}`,
      )
      if (r.stackIdWritten) out(`wrote the stack's id into ${config.dataDir}/stack-id`)
      if (r.configCopy)
        out(
          `the backup's configuration (${shown(backup.config?.path)}) is in ${r.configCopy}: compare it with the one in use`,
        )
    } finally {
      redis.disconnect()
    }
  } finally {
    await started?.stop()
  }
  if (creds.written) out(`wrote the Redis log-ins into ${privateRedisDir(config.dataDir)}`)
  if (creds.kept) out(`kept this data directory's Redis log-ins (the Redis was made with them)`)
}

/** Where the imported roles are written unless --roles-file says otherwise. */
export const IMPORTED_ROLES_FILE = 'jupyterhub-roles.yaml'

export async function importJupyterHubCommand(
  configFile: string | undefined,
  dbFile: string,
  rolesFile: string | undefined,
): Promise<void> {
  const { config } = loadConfig({ file: configFile })
  const data = readJupyterHubDb(resolve(dbFile))
  const d = await buildDeps(config, { log: createLogger('cli', { level: 'warn' }) })
  try {
    const r = await importJupyterHub(d, data)
    out(`read ${resolve(dbFile)}: ${data.release}, schema revision ${data.revision}`)
    out(
      `users: ${r.created.length} created${r.created.length ? ` (${r.created.join(', ')})` : ''}, ${r.existing.length} already here and left as they are${r.existing.length ? ` (${r.existing.join(', ')})` : ''}`,
    )
    out(`groups: ${r.groups.created.length} created, ${r.groups.existing.length} already here (members added)`)
    if (r.roles.length) {
      const file = resolve(rolesFile ?? join(config.dataDir, IMPORTED_ROLES_FILE))
      writePrivateFile(file, yaml({ roles: r.roles }))
      out(
        `roles: ${r.roles.map((x) => x.name).join(', ')} written to ${file}: roles are configuration in edgehub; add them to the roles list of the configuration file and restart the hubs`,
      )
    } else out('roles: none beyond the default ones')
    for (const line of r.skipped) out(`not imported: ${line}`)
    if (r.tokens.length) {
      out(
        `API tokens: ${r.tokens.length} not carried over (JupyterHub keeps only a salted hash of each; edgehub finds tokens by their SHA-256). Their owners make new ones (/hub/token, or edgehub token issue NAME):`,
      )
      for (const t of r.tokens)
        out(
          `  ${t.owner}: ${JSON.stringify(t.note)} scopes ${t.scopes.join(',') || "(owner's)"}${t.expiresAt ? ` expiring ${t.expiresAt}` : ''}`,
        )
    }
  } finally {
    await d.close()
  }
}
