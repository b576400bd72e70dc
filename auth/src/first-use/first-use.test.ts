import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFirstUseAuthenticator } from './index'
import { firstUseSettings } from './settings'
import { Users } from '../../../control-plane/src/state/users'
import { keyNames } from '../../../control-plane/src/state/keys'
import { ProxyTables } from '../../../control-plane/src/state/proxy-tables'
import { testRedis } from '../../../test/support/redis'

let redis: Awaited<ReturnType<typeof testRedis>>
let n = 0
beforeAll(async () => {
  redis = await testRedis()
})
afterAll(async () => redis?.stop())

function make(settings: Record<string, unknown>) {
  const prefix = `fu${++n}:`
  const users = new Users(redis.client, keyNames(prefix), new ProxyTables(redis.client, prefix))
  const auth = createFirstUseAuthenticator({ ...firstUseSettings.parse({ scryptCost: 1024, ...settings }), users })
  return { users, auth }
}

describe('first-use authenticator', () => {
  it("sets a new name's password at its first login, and holds later logins to it", async () => {
    const { users, auth } = make({})
    expect(await auth.authenticate({ username: 'ann', password: 'first secret' })).toEqual({ name: 'ann' })
    expect((await users.get('ann'))?.name).toBe('ann')
    expect(await auth.authenticate({ username: 'ann', password: 'another one' })).toBeNull()
    expect(await auth.authenticate({ username: 'ann', password: 'first secret' })).toEqual({ name: 'ann' })
  })

  it('refuses a first password the rules refuse, saying why, and makes no account', async () => {
    const { users, auth } = make({ minPasswordLength: 10 })
    await expect(auth.authenticate({ username: 'bob', password: 'short' })).rejects.toThrow('at least 10 characters')
    expect(await users.get('bob')).toBeUndefined()
  })

  it('makes no account for a name the login policy refuses', async () => {
    const { users, auth } = make({})
    expect(await auth.authenticate({ username: 'eve', password: 'eves password', admissible: false })).toBeNull()
    expect(await users.get('eve')).toBeUndefined()
  })

  it('with createUsers false: only existing users, whose first login sets their password', async () => {
    const { users, auth } = make({ createUsers: false })
    expect(await auth.authenticate({ username: 'carl', password: 'carls password' })).toBeNull()
    expect(await users.get('carl')).toBeUndefined()
    await users.create('dora') // made by an admin, no password yet
    expect(await auth.authenticate({ username: 'dora', password: 'doras password' })).toEqual({ name: 'dora' })
    expect(await auth.authenticate({ username: 'dora', password: 'not hers at all' })).toBeNull()
  })

  it('lets one of two first logins racing for a name set the password; the other must match it', async () => {
    const { auth } = make({})
    const [a, b] = await Promise.all([
      auth.authenticate({ username: 'race', password: 'password one' }),
      auth.authenticate({ username: 'race', password: 'password two' }),
    ])
    expect([a, b].filter(Boolean)).toHaveLength(1)
  })

  it('with a shared workshop password: any name with that password, nobody else, no passwords stored', async () => {
    const { users, auth } = make({ sharedPassword: 'workshop-2026' })
    expect(auth.passwords).toBeUndefined()
    expect(await auth.authenticate({ username: 'x1', password: 'workshop-2026' })).toEqual({ name: 'x1' })
    expect(await auth.authenticate({ username: 'x1', password: 'workshop-2025' })).toBeNull()
    expect(await users.passwordHash('x1')).toBeUndefined()
    const closed = make({ sharedPassword: 'workshop-2026', createUsers: false })
    expect(await closed.auth.authenticate({ username: 'x2', password: 'workshop-2026' })).toBeNull()
  })
})
