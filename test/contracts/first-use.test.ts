import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFirstUseAuthenticator } from '../../auth/src/first-use/index'
import { firstUseSettings } from '../../auth/src/first-use/settings'
import { Users } from '../../control-plane/src/state/users'
import { keyNames } from '../../control-plane/src/state/keys'
import { ProxyTables } from '../../control-plane/src/state/proxy-tables'
import { testRedis } from '../support/redis'

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
    expect(await auth.authenticate({ username: 'ann', password: 'first secret', mayClaim: true })).toEqual({
      name: 'ann',
    })
    expect((await users.get('ann'))?.name).toBe('ann')
    expect(await auth.authenticate({ username: 'ann', password: 'another one', mayClaim: true })).toBeNull()
    expect(await auth.authenticate({ username: 'ann', password: 'first secret', mayClaim: true })).toEqual({
      name: 'ann',
    })
  })

  it('refuses a first password the rules refuse, saying why, and makes no account', async () => {
    const { users, auth } = make({ minPasswordLength: 10 })
    await expect(auth.authenticate({ username: 'bob', password: 'short', mayClaim: true })).rejects.toThrow(
      'at least 10 characters',
    )
    expect(await users.get('bob')).toBeUndefined()
  })

  it("never sets an admin's first password, nor opens an admin's account with the workshop password", async () => {
    const { users, auth } = make({})
    await users.create('boss', { admin: true }) // an admin without a password yet
    expect(await auth.authenticate({ username: 'boss', password: 'takeover-attempt', mayClaim: true })).toBeNull()
    expect(await users.passwordHash('boss')).toBeUndefined()
    // a name the configuration makes an admin is not claimable (the hub says so with mayClaim)
    expect(await auth.authenticate({ username: 'root', password: 'takeover-attempt', mayClaim: false })).toBeNull()
    expect(await users.get('root')).toBeUndefined()
    const shared = make({ sharedPassword: 'workshop-2026' })
    await shared.users.create('teacher', { admin: true })
    expect(
      await shared.auth.authenticate({ username: 'teacher', password: 'workshop-2026', mayClaim: true }),
    ).toBeNull()
  })

  it('makes no account for a name the login policy refuses', async () => {
    const { users, auth } = make({})
    expect(await auth.authenticate({ username: 'eve', password: 'eves password', mayClaim: false })).toBeNull()
    expect(await users.get('eve')).toBeUndefined()
  })

  it('with createUsers false: only existing users, whose first login sets their password', async () => {
    const { users, auth } = make({ createUsers: false })
    expect(await auth.authenticate({ username: 'carl', password: 'carls password', mayClaim: true })).toBeNull()
    expect(await users.get('carl')).toBeUndefined()
    await users.create('dora') // made by an admin, no password yet
    expect(await auth.authenticate({ username: 'dora', password: 'doras password', mayClaim: true })).toEqual({
      name: 'dora',
    })
    expect(await auth.authenticate({ username: 'dora', password: 'not hers at all', mayClaim: true })).toBeNull()
  })

  it('lets one of two first logins racing for a name set the password; the other must match it', async () => {
    const { auth } = make({})
    const [a, b] = await Promise.all([
      auth.authenticate({ username: 'race', password: 'password one', mayClaim: true }),
      auth.authenticate({ username: 'race', password: 'password two', mayClaim: true }),
    ])
    expect([a, b].filter(Boolean)).toHaveLength(1)
  })

  it('with a shared workshop password: any name with that password, nobody else, no passwords stored', async () => {
    const { users, auth } = make({ sharedPassword: 'workshop-2026' })
    expect(auth.passwords).toBeUndefined()
    expect(await auth.authenticate({ username: 'x1', password: 'workshop-2026', mayClaim: true })).toEqual({
      name: 'x1',
    })
    expect(await auth.authenticate({ username: 'x1', password: 'workshop-2025', mayClaim: true })).toBeNull()
    expect(await users.passwordHash('x1')).toBeUndefined()
    const closed = make({ sharedPassword: 'workshop-2026', createUsers: false })
    expect(await closed.auth.authenticate({ username: 'x2', password: 'workshop-2026', mayClaim: true })).toBeNull()
  })
})
