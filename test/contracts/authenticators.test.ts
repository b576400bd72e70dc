// Every registered authenticator runs the authenticator contract (authenticator-contract.ts); one
// line per plug-in. The native one keeps its accounts in a real Redis, through the hub's user store.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { AUTHENTICATORS, createAuthenticator } from '../../auth/src'
import { configSchema } from '../../control-plane/src/config/schema'
import { Users } from '../../control-plane/src/state/users'
import { keyNames } from '../../control-plane/src/state/keys'
import { ProxyTables } from '../../control-plane/src/state/proxy-tables'
import { testRedis } from '../support/redis'
import { authenticatorContract, contractKinds } from './authenticator-contract'

let redis: Awaited<ReturnType<typeof testRedis>>
beforeAll(async () => {
  redis = await testRedis()
})
afterAll(async () => redis?.stop())

const configured = (auth: Record<string, unknown>) => configSchema.parse({ auth }).auth

authenticatorContract('native', async () => {
  const users = new Users(redis.client, keyNames('contract:'), new ProxyTables(redis.client, 'contract:'))
  const authenticator = createAuthenticator(configured({ kind: 'native', native: { scryptCost: 1024 } }), {
    accounts: users,
  })
  return {
    authenticator,
    async addUser(name, password) {
      await users.create(name, { passwordHash: await authenticator.passwords!.hash(password) })
    },
  }
})

authenticatorContract('first-use', async () => {
  // with createUsers false an unknown name is refused, as the contract expects; first logins are
  // tested in auth/src/first-use/first-use.test.ts
  const users = new Users(redis.client, keyNames('contract-fu:'), new ProxyTables(redis.client, 'contract-fu:'))
  const authenticator = createAuthenticator(
    configured({ kind: 'first-use', 'first-use': { scryptCost: 1024, createUsers: false } }),
    { accounts: users },
  )
  return {
    authenticator,
    async addUser(name, password) {
      await users.create(name, { passwordHash: await authenticator.passwords!.hash(password) })
    },
  }
})

authenticatorContract('dummy', async () => ({
  authenticator: createAuthenticator(configured({ kind: 'dummy' }), {
    accounts: { passwordHash: async () => undefined, setPasswordHash: async () => {}, get: async () => undefined },
  }),
  addUser: async () => {},
  acceptsAnyPassword: true,
}))

it('runs the contract for every registered authenticator', () => {
  // a plug-in registered without an authenticatorContract(...) in this file would not be held to it
  expect(Object.keys(AUTHENTICATORS).filter((k) => !contractKinds.has(k))).toEqual([])
})
