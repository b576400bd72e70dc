// `edgehub backup FILE`: the stack's Redis data at one point in time (ops/snapshot.ts) and the files
// of the data directory the stack needs besides it, in one file (ops/backup-file.ts).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Redis } from 'ioredis'
import type { Config } from '../config/schema'
import { connectRedis, createRedis, redisWhere } from '../deps'
import { createLogger } from '../../../runtime/src/log'
import { keyNames } from '../state/keys'
import { checkStackId, STACK_ID_FILE } from '../stack/identity'
import { CREDENTIALS_FILE } from '../stack/redis-acl'
import { VERSION } from '../version'
import { type Backup, BACKUP_FORMAT, writeBackupFile } from './backup-file'
import { schemaVersion } from './migrations'
import { readSnapshot } from './snapshot'

/**
 * The files of the data directory a restored stack needs: its id, and the private Redis's log-ins
 * (which hub and proxy replicas elsewhere may have been given). Cookie keys, OIDC signing keys and
 * every other secret the hub makes live in Redis.
 */
export const BACKED_UP_FILES = [STACK_ID_FILE, `redis/${CREDENTIALS_FILE}`] as const

/** A hub connection to the configured Redis, checked against the data directory's stack id. */
export async function openStackRedis(config: Config): Promise<Redis> {
  const redis = createRedis(config, createLogger('cli', { level: 'error' }))
  await connectRedis(redis, config)
  const id = await redis.get(keyNames(config.redis.prefix).hubId)
  try {
    if (id) checkStackId(id, config.dataDir, redisWhere(config))
  } catch (err) {
    redis.disconnect()
    throw err
  }
  return redis
}

export interface BackupSummary {
  keys: number
  files: string[]
  bytes: number
  schemaVersion: number
}

export async function backupStack(
  config: Config,
  configFile: string | undefined,
  file: string,
  redis: Redis,
): Promise<BackupSummary> {
  const prefix = config.redis.prefix
  const keys = await readSnapshot(redis, prefix)
  const version = await schemaVersion(redis, keyNames(prefix))
  const files: Record<string, string> = {}
  for (const f of BACKED_UP_FILES) {
    const path = join(config.dataDir, f)
    if (existsSync(path)) files[f] = readFileSync(path, 'utf8')
  }
  const backup: Backup = {
    kind: 'edgehub-backup',
    format: BACKUP_FORMAT,
    edgehubVersion: VERSION,
    schemaVersion: version,
    created: new Date().toISOString(),
    prefix,
    keys,
    files,
    config: configFile ? { path: configFile, text: readFileSync(configFile, 'utf8') } : undefined,
  }
  const bytes = writeBackupFile(file, backup)
  return { keys: keys.length, files: Object.keys(files), bytes, schemaVersion: version }
}
