// The signing key set in Redis: made once, rotated when due, retired keys kept as long as needed.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { testRedis } from '../../../test/support/redis'
import { providerJwks, SigningKeys, type RotationPolicy } from './signing-keys'

let redis: Awaited<ReturnType<typeof testRedis>>
let store: SigningKeys
const KEY = 'test:oidc:key-set'
const DAY = 86400
const policy: RotationPolicy = { rotateAfterSec: 30 * DAY, keepSigningSec: 3900, keepCookieSec: 14 * DAY }
const now = () => Math.floor(Date.now() / 1000)

beforeAll(async () => {
  redis = await testRedis()
})
beforeEach(async () => {
  await redis.client.del(KEY)
  store = new SigningKeys(redis.client, KEY)
})
afterAll(async () => {
  await redis?.stop()
})

describe('SigningKeys', () => {
  it('makes one key set however many replicas ask at once', async () => {
    const sets = await Promise.all([1, 2, 3].map(() => new SigningKeys(redis.client, KEY).ensure()))
    expect(new Set(sets.map((s) => s.current.kid)).size).toBe(1)
    expect(sets[0]).toMatchObject({ version: 1, retired: [] })
    expect(sets[0].next.kid).not.toBe(sets[0].current.kid)
    expect(sets[0].current.jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: sets[0].current.kid })
    expect(sets[0].current.jwk.d).toBeTruthy() // private: the provider signs with it
  })

  it('gives the provider the signing key first, then the next one', async () => {
    const set = await store.ensure()
    expect(providerJwks(set).keys.map((k) => k.kid)).toEqual([set.current.kid, set.next.kid])
  })

  it('does nothing before the key is due', async () => {
    const before = await store.ensure()
    const r = await store.rotate(policy, { now: now() + 29 * DAY })
    expect(r).toMatchObject({ rotated: null, dropped: [] })
    expect(await store.load()).toEqual(before)
  })

  it('makes the next key the signing key when due, and retires the old one', async () => {
    const before = await store.ensure()
    const t = now() + 30 * DAY
    const r = await store.rotate(policy, { now: t })
    expect(r.rotated).toBe(before.next.kid)
    const after = (await store.load())!
    expect(after.version).toBe(before.version + 1)
    expect(after.current).toMatchObject({ kid: before.next.kid, activated: t })
    expect(after.retired).toEqual([{ ...before.current, retired: t }])
    expect([before.current.kid, before.next.kid]).not.toContain(after.next.kid)
    expect(after.cookie.map((c) => c.secret).slice(1)).toEqual(before.cookie.map((c) => c.secret))
  })

  it('drops a retired key once what it signed has expired, and a cookie secret likewise', async () => {
    const before = await store.ensure()
    const t = now()
    await store.rotate(policy, { force: true, now: t })
    expect((await store.rotate(policy, { now: t + policy.keepSigningSec - 1 })).dropped).toEqual([])
    const r = await store.rotate(policy, { now: t + policy.keepSigningSec })
    expect(r.dropped).toEqual([before.current.kid])
    expect(r.keySet.retired).toEqual([])
    expect(r.keySet.cookie).toHaveLength(2)
    const later = await store.rotate(policy, { now: t + policy.keepCookieSec })
    expect(later.keySet.cookie).toHaveLength(1)
  })

  it('loses no rotation when two run at once', async () => {
    const before = await store.ensure()
    const results = await Promise.all(
      [1, 2].map(() => new SigningKeys(redis.client, KEY).rotate(policy, { force: true })),
    )
    const after = (await store.load())!
    expect(after.version).toBe(before.version + 2)
    expect(results.map((r) => r.rotated).sort()).toEqual([...new Set(results.map((r) => r.rotated))].sort())
    expect(after.retired).toHaveLength(2)
  })
})
