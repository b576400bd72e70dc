import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { AuthStates, CryptKeeper } from './auth-state'
import { keyNames } from './keys'
import { testRedis } from '../../../test/support/redis'

const hex = () => randomBytes(32).toString('hex')
const b64 = () => randomBytes(32).toString('base64')

describe('CryptKeeper', () => {
  it('encrypts with the first key and decrypts with any, so keys rotate', () => {
    const [old, fresh] = [hex(), b64()]
    const before = new CryptKeeper([old])
    const record = before.encrypt('{"token":"t"}', 'ann')
    expect(record).not.toContain('token')
    const after = new CryptKeeper([fresh, old])
    expect(after.decrypt(record, 'ann')).toBe('{"token":"t"}')
    expect(after.stale(record)).toBe(true)
    const rewritten = after.encrypt('{"token":"t"}', 'ann')
    expect(after.stale(rewritten)).toBe(false)
    expect(new CryptKeeper([fresh]).decrypt(rewritten, 'ann')).toBe('{"token":"t"}')
    expect(new CryptKeeper([fresh]).decrypt(record, 'ann')).toBeUndefined() // the old key is gone
  })

  it("opens a record only under its own user's name, and not once tampered with", () => {
    const k = new CryptKeeper([hex()])
    const record = k.encrypt('secret', 'ann')
    expect(k.decrypt(record, 'bob')).toBeUndefined()
    const parts = record.split('.')
    parts[3] = Buffer.from('x'.repeat(6)).toString('base64url')
    expect(k.decrypt(parts.join('.'), 'ann')).toBeUndefined()
    expect(k.decrypt('garbage', 'ann')).toBeUndefined()
  })

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new CryptKeeper(['abcd'])).toThrow('not 32 bytes')
  })
})

describe('AuthStates', () => {
  let redis: Awaited<ReturnType<typeof testRedis>>
  beforeAll(async () => {
    redis = await testRedis()
  })
  afterAll(async () => {
    await redis?.stop()
  })

  it('keeps the state encrypted in Redis, and the time of the last check', async () => {
    const keys = keyNames('edgehub:')
    const states = new AuthStates(redis.client, keys, new CryptKeeper([hex()]), true)
    await states.checked('ann', { access_token: 'at-123', groups: ['a'] }, { when: 1_000, via: 'oidc' })
    expect(await states.get('ann')).toEqual({ access_token: 'at-123', groups: ['a'] })
    expect(JSON.stringify(await redis.client.hgetall(keys.authState('ann')))).not.toContain('at-123')
    expect(await states.age('ann', 5_000)).toBe(4_000)
    await states.checked('ann', undefined, { when: 2_000 }) // a refresh that changed nothing keeps the state
    expect(await states.via('ann')).toBe('oidc')
    expect(await states.get('ann')).toEqual({ access_token: 'at-123', groups: ['a'] })
    await states.forget('ann')
    expect(await states.get('ann')).toBeUndefined()
  })

  it('keeps no state when auth.enableAuthState is false', async () => {
    const keys = keyNames('edgehub:')
    const states = new AuthStates(redis.client, keys, new CryptKeeper([]), false)
    await states.checked('bob', { access_token: 'x' })
    expect(await states.get('bob')).toBeUndefined()
    expect(await redis.client.hget(keys.authState('bob'), 'state')).toBeNull()
  })
})
