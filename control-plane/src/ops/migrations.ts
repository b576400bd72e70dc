// The data's schema version (`P schema-version`) and the numbered migrations that bring older data up
// to it. The leader runs them (jobs/index.ts) under a lock, in order, each at most once to completion;
// a migration that stops half-way (its hub killed) runs again from the start, so each must be
// idempotent. A hub refuses to start on data newer than it knows (checkSchemaVersion).
//
// The rules a migration follows (docs/operations.md, "Upgrades and schema versions"): the hub of the
// new release serves the data both before and after the migration (it runs after that hub starts),
// and proxies of the previous release keep serving after it: in the proxy tables a migration may add
// tables and add fields to the JSON values, and may not rename, remove or change the meaning of a
// table, a field or a key format; a proxy table is written only through ProxyTables, never by hand,
// so the change stream stays contiguous.
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from '../../../runtime/src/log'
import type { KeyNames } from '../state/keys'
import type { ProxyTables } from '../state/proxy-tables'
import { HubError } from '../../../runtime/src/errors'

export interface MigrationContext {
  redis: Redis
  keys: KeyNames
  tables: ProxyTables
  log: Logger
}

export interface Migration {
  /** The schema version the data has once it ran: 1, 2, 3, … without gaps. */
  version: number
  /** What it changes, for the log. */
  name: string
  up(ctx: MigrationContext): Promise<void>
}

/** Every migration, oldest first. Never edit one that shipped: add the next. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'schema versions begin: the data of edgehub 0.1.0 is version 1 as it is',
    async up() {},
  },
]

/** The schema version this edgehub writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version

/** How long one holder may keep the migration lock without renewing it (renewed every third of it). */
const LOCK_LEASE_MS = 30_000

export class NewerSchema extends HubError {
  constructor(found: number, known: number) {
    super(
      500,
      `the data in Redis has schema version ${found}, newer than this edgehub knows (${known}): a newer edgehub has migrated it; run that version (or newer), or restore a backup taken before the upgrade`,
      'newer_schema',
      { expose: true },
    )
  }
}

/** The data's schema version: 0 when none is recorded (data of edgehub 0.1.0 and before). */
export async function schemaVersion(redis: Redis, keys: KeyNames): Promise<number> {
  const v = await redis.get(keys.schemaVersion)
  if (v === null) return 0
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0)
    throw new HubError(500, `${keys.schemaVersion} holds ${JSON.stringify(v)}, not a schema version`, 'bad_schema', {
      expose: true,
    })
  return n
}

/**
 * At a hub's start: NewerSchema when the data is newer than `known`. A Redis this hub just named (no
 * data of an earlier release, deps.hubIdNamedNow) gets the current version at once, with nothing to
 * migrate; one without a version keeps 0 until the leader has migrated it.
 */
export async function checkSchemaVersion(
  redis: Redis,
  keys: KeyNames,
  opts: { fresh: boolean; known?: number } = { fresh: false },
): Promise<number> {
  const known = opts.known ?? SCHEMA_VERSION
  if (opts.fresh) await redis.set(keys.schemaVersion, String(known), 'NX')
  const found = await schemaVersion(redis, keys)
  if (found > known) throw new NewerSchema(found, known)
  return found
}

// KEYS: lock, version. ARGV: holder, the version reached. Recorded only while the holder has the lock.
const RECORD_SCRIPT = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1`
const RENEW_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

export type MigrationRun =
  | { outcome: 'current'; version: number }
  | { outcome: 'migrated'; from: number; version: number }
  | { outcome: 'busy'; version: number }

/**
 * Runs the migrations above the data's version, in order, under `P lock:schema`: 'busy' when
 * another holder has it (the caller tries again later). NewerSchema on data newer than the list.
 */
export async function runMigrations(
  ctx: MigrationContext,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationRun> {
  const { redis, keys, log } = ctx
  const latest = migrations.length ? migrations[migrations.length - 1].version : 0
  const from = await schemaVersion(redis, keys)
  if (from > latest) throw new NewerSchema(from, latest)
  if (from === latest) return { outcome: 'current', version: from }
  const me = randomBytes(8).toString('hex')
  if ((await redis.set(keys.schemaLock, me, 'PX', LOCK_LEASE_MS, 'NX')) !== 'OK')
    return { outcome: 'busy', version: from }
  const renew = setInterval(
    () => void redis.eval(RENEW_SCRIPT, 1, keys.schemaLock, me, LOCK_LEASE_MS).catch(() => {}),
    LOCK_LEASE_MS / 3,
  )
  try {
    // read again under the lock: another holder may have finished just before we took it
    let version = await schemaVersion(redis, keys)
    for (const m of migrations) {
      if (m.version <= version) continue
      if (m.version !== version + 1) throw new Error(`migration ${m.version} follows ${version}: the list has a gap`)
      log.info('running schema migration', { version: m.version, migration: m.name })
      await m.up(ctx)
      if (!(await redis.eval(RECORD_SCRIPT, 2, keys.schemaLock, keys.schemaVersion, me, m.version)))
        throw new Error(`lost the schema migration lock while running migration ${m.version}`)
      version = m.version
    }
    if (version !== from) log.info('schema migrated', { from, to: version })
    return { outcome: 'migrated', from, version }
  } finally {
    clearInterval(renew)
    await redis.eval(RELEASE_SCRIPT, 1, keys.schemaLock, me).catch(() => {})
  }
}

/**
 * The leader's job: runMigrations, except that data a newer release has migrated (a replica of the
 * previous release still running after the upgrade, and leader for a while) is left alone with one
 * warning instead of an error every run.
 */
export function migrationJob(ctx: MigrationContext): () => Promise<void> {
  let warned = false
  return async () => {
    try {
      await runMigrations(ctx)
    } catch (err) {
      if (!(err instanceof NewerSchema)) throw err
      if (!warned) ctx.log.warn(`${err.message}; this replica runs no migration`)
      warned = true
    }
  }
}
