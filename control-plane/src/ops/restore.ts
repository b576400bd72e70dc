// `edgehub restore FILE [--force]`: puts a backup's Redis data and data-directory files back.
// Refuses a backup of a newer format or schema, and a Redis that holds any key under the prefix
// unless forced (then those keys are replaced, in the same transaction), and a Redis a hub is running
// on (its copies of user names and keys would go stale). Proxies resync by themselves
// (ops/snapshot.ts, writeSnapshot).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Redis } from 'ioredis'
import type { Config } from '../config/schema'
import { HubError } from '../../../runtime/src/errors'
import { keyNames } from '../state/keys'
import { STACK_ID_FILE } from '../stack/identity'
import { CREDENTIALS_FILE } from '../stack/redis-acl'
import { type Backup, BadBackup } from './backup-file'
import { SCHEMA_VERSION } from './migrations'
import { keysUnder, writeSnapshot } from './snapshot'
import { writePrivateFile } from './private-file'

/** Where the backup's configuration file is written, in the data directory: never over the one in use. */
export const RESTORED_CONFIG_FILE = 'restored-edgehub.yaml'

export class RestoreRefused extends HubError {
  constructor(message: string) {
    super(409, message, 'restore_refused', { expose: true })
  }
}

export interface RestoreSummary {
  keys: number
  replaced: number
  proxyVersion: number
  files: string[]
  kept: string[]
  configCopy?: string
}

/** The stack id the restored Redis will carry (its hub id), or undefined when the backup has none. */
function restoredStackId(b: Backup): string | undefined {
  const v = b.keys.find((k) => k.key === 'hub-id')?.data[0]
  return typeof v === 'string' ? v : undefined
}

/** A value read from a backup file, fit for a terminal: control characters (escape sequences) become "?", at most 200 characters. */
export const shown = (v: unknown): string =>
  String(v ?? '')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
    .slice(0, 200)

/** NewerSchema-like refusal of a backup whose data is newer than this edgehub knows. */
export function checkBackupSchema(file: string, b: Backup): void {
  if (b.schemaVersion > SCHEMA_VERSION)
    throw new BadBackup(
      file,
      `its data has schema version ${b.schemaVersion}, newer than this edgehub knows (${SCHEMA_VERSION}): restore it with edgehub ${shown(b.edgehubVersion)} or newer`,
    )
}

/**
 * The private Redis's log-ins, written only when the data directory has none (a new machine), before
 * that Redis is started: a Redis running now checks the log-ins it was started with, so those stay.
 */
export function restoreCredentials(config: Config, b: Backup): { written: boolean; kept: boolean } {
  const creds = `redis/${CREDENTIALS_FILE}`
  if (b.files[creds] === undefined) return { written: false, kept: false }
  const path = join(config.dataDir, creds)
  if (existsSync(path)) return { written: false, kept: true }
  writePrivateFile(path, b.files[creds])
  return { written: true, kept: false }
}

/**
 * Writes the backup's keys into Redis (under this configuration's prefix), then the stack id the
 * restored Redis carries into the data directory, and the backup's configuration beside it.
 * RestoreRefused, before anything is written, when Redis holds keys under the prefix or the data
 * directory keeps another stack's id, unless forced.
 */
export async function restoreRedis(
  config: Config,
  redis: Redis,
  b: Backup,
  force: boolean,
): Promise<{ keys: number; replaced: number; proxyVersion: number; stackIdWritten: boolean; configCopy?: string }> {
  const prefix = config.redis.prefix
  // a running hub keeps copies (user names, keys) that a restore would leave stale, and writes meanwhile
  if (await redis.exists(keyNames(prefix).leader))
    throw new RestoreRefused(
      'a hub is running on this Redis (it holds the leader lease): stop every hub replica, then restore; proxies may keep running',
    )
  const existing = await keysUnder(redis, prefix)
  if (existing.length && !force)
    throw new RestoreRefused(
      `Redis holds ${existing.length} key${existing.length === 1 ? '' : 's'} under ${JSON.stringify(prefix)} (redis.prefix): stop the hubs and pass --force to replace them with the backup`,
    )
  const id = restoredStackId(b)
  const idPath = join(config.dataDir, STACK_ID_FILE)
  const current = existsSync(idPath) ? readFileSync(idPath, 'utf8').trim() : undefined
  if (id && current && current !== id && !force)
    throw new RestoreRefused(
      `${idPath} names stack ${current}, the backup stack ${id}: pass --force to make this data directory the backup's stack`,
    )
  const proxyVersion = await writeSnapshot(redis, prefix, b.keys)
  const stackIdWritten = !!id && current !== id
  if (stackIdWritten) writePrivateFile(idPath, `${id}\n`)
  let configCopy: string | undefined
  if (b.config) {
    configCopy = join(config.dataDir, RESTORED_CONFIG_FILE)
    writePrivateFile(configCopy, b.config.text)
  }
  return { keys: b.keys.length, replaced: existing.length, proxyVersion, stackIdWritten, configCopy }
}
