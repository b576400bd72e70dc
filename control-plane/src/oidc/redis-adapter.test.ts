// The Redis adapter against a real Redis: what oidc-provider stores, finds, consumes and revokes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errors } from 'oidc-provider'
import { testRedis } from '../../../test/support/redis'
import { redisAdapter } from './redis-adapter'
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
