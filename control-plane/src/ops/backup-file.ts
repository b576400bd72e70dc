// The backup file: one gzip'd JSON document, mode 0600 (it holds every secret of the stack: cookie
// keys, password hashes, token digests, the Redis log-ins, the configuration).
import { readFileSync } from 'node:fs'
import { gunzipSync, gzipSync } from 'node:zlib'
import { HubError } from '../../../runtime/src/errors'
import type { KeyCopy } from './snapshot'
import { writePrivateFile } from './private-file'

/** Raised when the file format changes so that an older edgehub would misread it. */
export const BACKUP_FORMAT = 1
const KIND = 'edgehub-backup'

/** Files of the data directory a stack needs besides Redis, by their path inside it. */
export interface BackupFiles {
  [pathInDataDir: string]: string
}

export interface Backup {
  kind: typeof KIND
  format: number
  /** The edgehub version that wrote it (control-plane/src/version.ts). */
  edgehubVersion: string
  /** The data's schema version (ops/migrations.ts) when it was taken; 0 before schema versions. */
  schemaVersion: number
  /** ISO time of the snapshot. */
  created: string
  /** redis.prefix of the stack it was taken from; keys below are stored without it. */
  prefix: string
  keys: KeyCopy[]
  files: BackupFiles
  /** The configuration file in use, if any: its path then and its text. */
  config?: { path: string; text: string }
}

export class BadBackup extends HubError {
  constructor(file: string, why: string) {
    super(400, `${file}: ${why}`, 'bad_backup', { expose: true })
  }
}

/** Writes the backup whole, then renames it into place: never a half-written file, never readable by others. */
export function writeBackupFile(file: string, backup: Backup): number {
  const body = gzipSync(Buffer.from(JSON.stringify(backup)))
  writePrivateFile(file, body)
  return body.length
}

/** Reads and checks a backup file; BadBackup naming what is wrong (not ours, a newer format, damaged). */
export function readBackupFile(file: string): Backup {
  let text: string
  try {
    text = gunzipSync(readFileSync(file)).toString('utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new BadBackup(file, code === 'ENOENT' ? 'no such file' : 'not a gzip file (is it an edgehub backup?)')
  }
  let b: Backup
  try {
    b = JSON.parse(text)
  } catch {
    throw new BadBackup(file, 'damaged: not JSON inside')
  }
  if (b?.kind !== KIND) throw new BadBackup(file, 'not an edgehub backup')
  if (!Number.isInteger(b.format) || b.format < 1) throw new BadBackup(file, 'damaged: no format version')
  if (b.format > BACKUP_FORMAT)
    throw new BadBackup(
      file,
      `written in backup format ${b.format} by edgehub ${b.edgehubVersion}; this edgehub reads format ${BACKUP_FORMAT} and older: restore it with that version or newer`,
    )
  if (!Array.isArray(b.keys) || typeof b.prefix !== 'string' || typeof b.files !== 'object')
    throw new BadBackup(file, 'damaged: keys, prefix or files missing')
  return b
}
