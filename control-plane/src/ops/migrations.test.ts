// Schema versions and migrations on a real Redis: each migration runs once, in order, under the lock,
// however many replicas try at once; a hub refuses data newer than it knows; and a migration that
// changes the proxy tables the way the rules allow leaves the current proxy serving.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testRedis } from '../../../test/support/redis'
import { startStack, type Stack } from '../../../test/support/stack'
import { withHubState, type HubState } from '../../../test/support/hub-state'
import { person, rootOf, startServer } from '../../../test/support/people'
import { okServerSpawner } from '../../../test/support/servers'
import { json } from '../../../test/support/client'
import { waitFor } from '../../../runtime/src/wait'
import { createLogger } from '../../../runtime/src/log'
import { keyNames } from '../state/keys'
import { ProxyTables } from '../state/proxy-tables'
import {
  checkSchemaVersion,
  MIGRATIONS,
  migrationJob,
  type Migration,
  type MigrationContext,
  NewerSchema,
  runMigrations,
  SCHEMA_VERSION,
  schemaVersion,
} from './migrations'

const fixture = JSON.parse(readFileSync(new URL('../../../test/fixtures/redis-keys.json', import.meta.url), 'utf8'))

describe('schema migrations on one Redis', () => {
  let redis: Awaited<ReturnType<typeof testRedis>>
  let n = 0
  /** A context with a prefix of its own, so the tests share one Redis and not their data. */
  const context = (): MigrationContext => {
    const prefix = `m${++n}:`
    return {
      redis: redis.client,
      keys: keyNames(prefix),
      tables: new ProxyTables(redis.client, prefix, 1000),
      log: createLogger('test', { level: 'error' }),
    }
  }
  beforeAll(async () => {
    redis = await testRedis()
  })
  afterAll(async () => redis?.stop())

  it('keeps the version under the key the key schema names', () => {
    expect(keyNames(fixture.prefix).schemaVersion).toBe(fixture.prefix + fixture.schemaVersion)
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length)
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1))
  })

  it('runs each migration once, in order, and records the version after each', async () => {
    const ctx = context()
    const ran: string[] = []
    const list: Migration[] = [1, 2, 3].map((version) => ({
      version,
      name: `m${version}`,
      async up(c) {
        ran.push(`${version}@${await schemaVersion(c.redis, c.keys)}`)
      },
    }))
    expect(await runMigrations(ctx, list)).toEqual({ outcome: 'migrated', from: 0, version: 3 })
    expect(ran).toEqual(['1@0', '2@1', '3@2'])
    expect(await runMigrations(ctx, list)).toEqual({ outcome: 'current', version: 3 })
    expect(ran).toHaveLength(3)
    expect(await ctx.redis.exists(ctx.keys.schemaLock)).toBe(0) // released
  })

  it('runs a migration once when several replicas try at the same time', async () => {
    const ctx = context()
    let runs = 0
    const list: Migration[] = [
      {
        version: 1,
        name: 'slow',
        async up(c) {
          runs++
          await c.redis.incr(`${c.keys.prefix}counter`)
        },
      },
    ]
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => runMigrations(ctx, list)))
    expect(runs).toBe(1)
    expect(outcomes.filter((o) => o.outcome === 'migrated')).toHaveLength(1)
    // the others found the lock taken (they try again later) or the work done
    expect(outcomes.every((o) => o.outcome !== 'migrated' || o.version === 1)).toBe(true)
    expect(await ctx.redis.get(`${ctx.keys.prefix}counter`)).toBe('1')
  })

  it('starts again from the migration that failed, which must be idempotent', async () => {
    const ctx = context()
    let fail = true
    const list: Migration[] = [
      { version: 1, name: 'one', async up() {} },
      {
        version: 2,
        name: 'two',
        async up(c) {
          await c.redis.set(`${c.keys.prefix}two`, 'done')
          if (fail) throw new Error('the hub died here')
        },
      },
    ]
    await expect(runMigrations(ctx, list)).rejects.toThrow('the hub died here')
    expect(await schemaVersion(ctx.redis, ctx.keys)).toBe(1)
    fail = false
    expect(await runMigrations(ctx, list)).toEqual({ outcome: 'migrated', from: 1, version: 2 })
  })

  it('refuses data newer than it knows, in one line naming both versions', async () => {
    const ctx = context()
    await ctx.redis.set(ctx.keys.schemaVersion, String(SCHEMA_VERSION + 1))
    const err = await checkSchemaVersion(ctx.redis, ctx.keys).catch((e: Error) => e)
    expect(err).toBeInstanceOf(NewerSchema)
    expect((err as Error).message).toContain(
      `schema version ${SCHEMA_VERSION + 1}, newer than this edgehub knows (${SCHEMA_VERSION})`,
    )
    expect((err as Error).message).not.toContain('\n')
    await expect(runMigrations(ctx)).rejects.toBeInstanceOf(NewerSchema)
    // the leader's job of an older replica leaves such data alone, with one warning
    const warnings: string[] = []
    const job = migrationJob({
      ...ctx,
      log: { ...ctx.log, warn: (msg: string) => void warnings.push(msg) } as MigrationContext['log'],
    })
    await job()
    await job()
    expect(warnings).toHaveLength(1)
    expect(await schemaVersion(ctx.redis, ctx.keys)).toBe(SCHEMA_VERSION + 1)
  })

  it('gives a new Redis the current version at once, and leaves data without one at 0 for the leader', async () => {
    const fresh = context()
    expect(await checkSchemaVersion(fresh.redis, fresh.keys, { fresh: true })).toBe(SCHEMA_VERSION)
    const old = context()
    expect(await checkSchemaVersion(old.redis, old.keys, { fresh: false })).toBe(0)
    expect(await runMigrations(old)).toEqual({ outcome: 'migrated', from: 0, version: SCHEMA_VERSION })
  })
})

describe('a migration within the rules, against the current proxy', () => {
  let stack: Stack & HubState
  beforeAll(async () => {
    stack = await withHubState(await startStack({ spawner: okServerSpawner() }))
  }, 120_000)
  afterAll(async () => stack?.stop(), 60_000)

  it('adds fields to route values and a table of its own; the proxy keeps serving', async () => {
    const root = await rootOf(stack)
    const ada = await person(root, 'ada')
    await startServer(stack.url, ada.token, 'ada')
    const { deps } = stack
    // what a later release may do in a migration: new fields in a table's JSON values, a new table
    const next: Migration = {
      version: SCHEMA_VERSION + 1,
      name: 'routes carry a weight; a new table',
      async up(c) {
        const routes = await c.redis.hgetall(c.keys.proxyTable('routes'))
        await c.tables.apply(
          Object.entries(routes).map(([prefix, value]) => ({
            table: 'routes' as const,
            key: prefix,
            value: { ...JSON.parse(value), weight: 1, labels: { zone: 'a' } },
          })),
        )
        await c.redis.eval(
          "redis.call('INCR', KEYS[1]) local v = redis.call('GET', KEYS[1]) redis.call('HSET', KEYS[2], 'x', '{}') redis.call('XADD', KEYS[3], v .. '-0', 't', 'quotas', 'k', 'x', 'o', 'set', 'v', '{}') return v",
          3,
          c.keys.proxyVersion,
          `${c.keys.prefix}proxy:quotas`,
          c.keys.proxyChanges,
        )
      },
    }
    const run = await runMigrations(deps, [...MIGRATIONS, next])
    expect(run).toMatchObject({ version: SCHEMA_VERSION + 1 })
    const version = Number(await deps.redis.get(deps.keys.proxyVersion))
    await waitFor(
      'the proxy to apply the migration',
      async () => (await json(await fetch(`${stack.url}/_edgehub/proxy/health`))).version === version,
      { timeoutMs: 10_000 },
    )
    const res = await fetch(`${stack.url}/user/ada/`, { headers: ada.auth, redirect: 'manual' })
    expect(res.status).toBe(200)
    // a proxy that starts now makes a full sync of the migrated tables, and serves too
    await stack.stopProxy(0)
    await stack.startProxy(0)
    const again = await fetch(`${stack.url}/user/ada/`, { headers: ada.auth, redirect: 'manual' })
    expect(again.status).toBe(200)
    // back to the version this edgehub knows, so the stack's hub would start again
    await deps.redis.set(deps.keys.schemaVersion, String(SCHEMA_VERSION))
  })
})
