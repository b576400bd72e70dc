// The Redis adapter against a real Redis: what oidc-provider stores, finds, consumes and revokes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errors } from 'oidc-provider'
import { testRedis } from '../../../test/support/redis'
import { redisAdapter } from './redis-adapter'
import { accountGrants, revokeAccountGrant } from './account-grants'
import { oidcKeyNames } from '../state/keys'

let redis: Awaited<ReturnType<typeof testRedis>>
const keys = oidcKeyNames('test:')
let Adapter: ReturnType<typeof redisAdapter>

beforeAll(async () => {
  redis = await testRedis()
  Adapter = redisAdapter(redis.client, keys, errors)
})
afterAll(async () => {
  await redis?.stop()
})

describe('redisAdapter', () => {
  it('stores each object under the prefix with the TTL it is given', async () => {
    const tokens = new Adapter('AccessToken')
    await tokens.upsert('at1', { accountId: 'alice', clientId: 'svc', grantId: 'g1' }, 60)
    expect(await tokens.find('at1')).toEqual({ accountId: 'alice', clientId: 'svc', grantId: 'g1' })
    const ttl = await redis.client.ttl('test:oidc:access-token:at1')
    expect(ttl).toBeGreaterThan(55)
    expect(ttl).toBeLessThanOrEqual(60)
    expect(await tokens.find('nope')).toBeUndefined()
  })

  it('indexes each grant under its account, lists it, and revokes it with what it issued, only for its owner', async () => {
    const grants = new Adapter('Grant')
    const tokens = new Adapter('AccessToken')
    const refresh = new Adapter('RefreshToken')
    const now = Math.floor(Date.now() / 1000)
    await grants.upsert(
      'gA',
      { accountId: 'erin', clientId: 'svc', openid: { scope: 'openid profile' }, iat: now },
      300,
    )
    await grants.upsert('gB', { accountId: 'erin', clientId: 'other', iat: now + 1 }, 100)
    await grants.upsert('gC', { accountId: 'frank', clientId: 'svc', iat: now }, 300)
    await tokens.upsert('atA', { accountId: 'erin', clientId: 'svc', grantId: 'gA' }, 60)
    await refresh.upsert('rtA', { accountId: 'erin', clientId: 'svc', grantId: 'gA' }, 300)
    expect(await redis.client.ttl(keys.accountGrants('erin'))).toBeGreaterThan(295)

    const listed = await accountGrants(redis.client, keys, 'erin')
    expect(listed.map((g) => [g.grantId, g.clientId, g.scope])).toEqual([
      ['gA', 'svc', 'openid profile'],
      ['gB', 'other', ''],
    ])
    expect(listed[0].created).toBe(new Date(now * 1000).toISOString())

    // frank's grant is not erin's to revoke, by id or otherwise
    expect(await revokeAccountGrant(redis.client, keys, 'erin', 'gC')).toBe(false)
    expect(await grants.find('gC')).toBeDefined()

    expect(await revokeAccountGrant(redis.client, keys, 'erin', 'gA')).toBe(true)
    expect(await grants.find('gA')).toBeUndefined()
    expect(await tokens.find('atA')).toBeUndefined()
    expect(await refresh.find('rtA')).toBeUndefined()
    expect((await accountGrants(redis.client, keys, 'erin')).map((g) => g.grantId)).toEqual(['gB'])
    expect(await revokeAccountGrant(redis.client, keys, 'erin', 'gA')).toBe(false)

    // a grant that expired (or oidc-provider destroyed) leaves the list
    await grants.destroy('gB')
    expect(await redis.client.sismember(keys.accountGrants('erin'), 'gB')).toBe(0)
    await redis.client.sadd(keys.accountGrants('frank'), 'gone')
    expect((await accountGrants(redis.client, keys, 'frank')).map((g) => g.grantId)).toEqual(['gC'])
    expect(await redis.client.sismember(keys.accountGrants('frank'), 'gone')).toBe(0)
  })

  it('finds a session by its uid, until it is destroyed', async () => {
    const sessions = new Adapter('Session')
    await sessions.upsert('s1', { uid: 'u1', accountId: 'alice' }, 60)
    expect(await sessions.findByUid('u1')).toMatchObject({ accountId: 'alice' })
    expect(await redis.client.ttl('test:oidc:session-uid:u1')).toBeGreaterThan(55)
    await sessions.destroy('s1')
    expect(await sessions.findByUid('u1')).toBeUndefined()
    expect(await redis.client.exists('test:oidc:session-uid:u1')).toBe(0)
  })

  it('finds a device code by its user code', async () => {
    const codes = new Adapter('DeviceCode')
    await codes.upsert('d1', { userCode: 'ABCD-EFGH', clientId: 'svc' }, 60)
    expect(await codes.findByUserCode('ABCD-EFGH')).toMatchObject({ clientId: 'svc' })
  })

  it('marks a code consumed, keeps the mark through an upsert, and treats a second consumption as a replay', async () => {
    const codes = new Adapter('AuthorizationCode')
    const tokens = new Adapter('AccessToken')
    await codes.upsert('c1', { grantId: 'g2', clientId: 'svc' }, 60)
    await tokens.upsert('at2', { grantId: 'g2' }, 60)
    await codes.consume('c1')
    const found = await codes.find('c1')
    expect(found?.consumed).toBeGreaterThan(0)
    await codes.upsert('c1', { grantId: 'g2', clientId: 'svc' }, 60)
    expect((await codes.find('c1'))?.consumed).toBe(found?.consumed)
    await expect(codes.consume('c1')).rejects.toMatchObject({ error: 'invalid_grant' })
    expect(await tokens.find('at2')).toBeUndefined()
  })

  it('lets exactly one of many concurrent consumptions win', async () => {
    const tokens = new Adapter('RefreshToken')
    await tokens.upsert('rt1', { grantId: 'g3' }, 60)
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => tokens.consume('rt1')))
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
  })

  it('revokes every token issued under a grant, and nothing else that names it', async () => {
    await new Adapter('AccessToken').upsert('at3', { grantId: 'g4' }, 60)
    await new Adapter('RefreshToken').upsert('rt3', { grantId: 'g4' }, 600)
    await new Adapter('AccessToken').upsert('at4', { grantId: 'other' }, 60)
    await new Adapter('Interaction').upsert('i1', { grantId: 'g4', uid: 'i1' }, 60)
    expect(await redis.client.ttl('test:oidc:grant-members:g4')).toBeGreaterThan(595)
    await new Adapter('RefreshToken').revokeByGrantId('g4')
    expect(await new Adapter('AccessToken').find('at3')).toBeUndefined()
    expect(await new Adapter('RefreshToken').find('rt3')).toBeUndefined()
    expect(await new Adapter('AccessToken').find('at4')).toEqual({ grantId: 'other' })
    expect(await new Adapter('Interaction').find('i1')).toEqual({ grantId: 'g4', uid: 'i1' })
    expect(await redis.client.exists('test:oidc:grant-members:g4')).toBe(0)
  })
})
