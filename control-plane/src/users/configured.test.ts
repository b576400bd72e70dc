// The first admin of the one-machine stack (bootstrapFirstAdmin), and the users the configuration
// names (createConfiguredUsers), on a real Redis.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testRedis } from '../../../test/support/redis'
import { loadConfig } from '../config/load'
import { buildDeps } from '../deps'
import { createLogger } from '../../../runtime/src/log'
import { bootstrapFirstAdmin, createConfiguredUsers } from './configured'

describe('the first admin of the one-machine stack', () => {
  let redis: Awaited<ReturnType<typeof testRedis>>
  const dataDir = mkdtempSync(join(tmpdir(), 'edgehub-first-admin-'))
  beforeAll(async () => {
    redis = await testRedis()
  })
  afterAll(async () => {
    await redis?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  async function deps(auth: Record<string, unknown>) {
    await redis.client.flushall()
    const { config } = loadConfig({ env: { EDGEHUB_REDIS_URL: redis.url, EDGEHUB_DATA_DIR: dataDir } })
    const d = await buildDeps(
      { ...config, auth: { ...config.auth, ...auth, native: { ...config.auth.native, scryptCost: 1024 } } },
      { log: createLogger('test', { level: 'error' }) },
    )
    return d
  }

  it('is "admin" with a generated password on an empty hub, once', async () => {
    const d = await deps({})
    try {
      const first = await bootstrapFirstAdmin(d)
      expect(first?.name).toBe('admin')
      expect(await d.authenticator.authenticate({ username: 'admin', password: first!.password })).toEqual({
        name: 'admin',
      })
      expect((await d.users.get('admin'))?.admin).toBe(true)
      expect(await bootstrapFirstAdmin(d)).toBeNull()
    } finally {
      await d.close()
    }
  })

  it('is the first configured admin, made at the hub start without a password', async () => {
    const d = await deps({ admins: ['alice', 'carol'], allowed: ['bob'] })
    try {
      await createConfiguredUsers(d)
      expect(await d.users.count()).toBe(3)
      const first = await bootstrapFirstAdmin(d)
      expect(first?.name).toBe('alice')
      expect(await d.authenticator.authenticate({ username: 'alice', password: first!.password })).toEqual({
        name: 'alice',
      })
      expect(await d.users.passwordHash('carol')).toBeUndefined()
    } finally {
      await d.close()
    }
  })

  it('is not made when users were made another way', async () => {
    const d = await deps({ admins: ['alice'] })
    try {
      await createConfiguredUsers(d)
      await d.users.create('dave', { passwordHash: await d.passwords!.hash('dave-password') })
      expect(await bootstrapFirstAdmin(d)).toBeNull()
      expect(await d.users.passwordHash('alice')).toBeUndefined()
    } finally {
      await d.close()
    }
  })

  it('is not made when a configured admin has a password (set with the CLI), and never replaces one', async () => {
    const d = await deps({ admins: ['alice', 'carol'] })
    try {
      await createConfiguredUsers(d)
      await d.passwords!.setPassword('carol', 'carol-own-password')
      expect(await bootstrapFirstAdmin(d)).toBeNull()
      expect(await d.users.passwordHash('alice')).toBeUndefined()
    } finally {
      await d.close()
    }
    // no admins configured, "admin" made earlier with a password of its own, only configured users besides
    const e = await deps({ allowed: ['admin', 'bob'] })
    try {
      await createConfiguredUsers(e)
      await e.passwords!.setPassword('admin', 'admin-own-password')
      const hash = await e.users.passwordHash('admin')
      expect(await bootstrapFirstAdmin(e)).toBeNull()
      expect(await e.users.passwordHash('admin')).toBe(hash)
    } finally {
      await e.close()
    }
  })

  it('is not made for "admin" when auth.allowed keeps "admin" out', async () => {
    const d = await deps({ allowed: ['alice'] })
    try {
      await createConfiguredUsers(d)
      expect(await bootstrapFirstAdmin(d)).toBeNull()
      expect(await d.users.get('admin')).toBeUndefined()
    } finally {
      await d.close()
    }
  })
})
