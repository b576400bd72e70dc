// Every registered authenticator runs the authenticator contract (authenticator-contract.ts); one
// line per plug-in. The native one keeps its accounts in a real Redis, through the hub's user store;
// oidc logs in at an edgehub's OpenID Connect provider started here.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { AUTHENTICATORS, createAuthenticator } from '../../auth/src'
import { configSchema } from '../../control-plane/src/config/schema'
import { Users } from '../../control-plane/src/state/users'
import { keyNames } from '../../control-plane/src/state/keys'
import { ProxyTables } from '../../control-plane/src/state/proxy-tables'
import { testRedis } from '../support/redis'
import { tmpdir } from 'node:os'
import { serve } from '@hono/node-server'
import type { Config } from '../../control-plane/src/config/schema'
import { buildDeps } from '../../control-plane/src/deps'
import { buildApp } from '../../control-plane/src/app'
import { createLogger } from '../../runtime/src/log'
import { freePort } from '../../runtime/src/ports'
import { waitFor } from '../../runtime/src/wait'
import { authenticatorContract, contractKinds } from './authenticator-contract'
import { Client as LdapClient } from 'ldapts'
import { startSlapd, type Slapd } from '../support/slapd'
import { execFileSync } from 'node:child_process'
import { addAccount, isRoot, removeAccounts, testPrefix } from '../support/accounts'

/** For authenticators that keep no accounts in the hub. */
const noAccounts = { passwordHash: async () => undefined, setPasswordHash: async () => {}, get: async () => undefined }

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

authenticatorContract('remote-user', async () => ({
  authenticator: createAuthenticator(configured({ kind: 'remote-user' }), { accounts: noAccounts }),
  addUser: async () => {},
}))

// ldap against a real slapd: accounts are directory entries, added as the directory's admin
let slapd: Slapd | undefined
afterAll(async () => slapd?.stop())
authenticatorContract('ldap', async () => {
  slapd ??= await startSlapd('dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n')
  const directory = slapd
  const authenticator = createAuthenticator(
    configured({
      kind: 'ldap',
      ldap: { url: directory.url, bindDnTemplates: ['uid={username},ou=people,dc=example,dc=org'] },
    }),
    { accounts: noAccounts },
  )
  return {
    authenticator,
    async addUser(name, password) {
      const client = new LdapClient({ url: directory.url })
      try {
        await client.bind(directory.rootDn, directory.rootPassword)
        await client.add(`uid=${name},ou=people,dc=example,dc=org`, {
          objectClass: ['inetOrgPerson'],
          uid: name,
          cn: name,
          sn: name,
          userPassword: password,
        })
      } finally {
        await client.unbind()
      }
    },
  }
})

// pam with the machine's accounts, made here (useradd, chpasswd) and removed at the end
const pamPrefix = testPrefix()
afterAll(() => {
  if (isRoot) expect(removeAccounts(pamPrefix)).toEqual([])
})
authenticatorContract(
  'pam',
  async () => ({
    authenticator: createAuthenticator(configured({ kind: 'pam' }), { accounts: noAccounts }),
    async addUser(name, password) {
      addAccount(name)
      execFileSync('chpasswd', { input: `${name}:${password}\n` })
    },
    namePrefix: pamPrefix,
  }),
  { skip: isRoot ? undefined : 'checking Unix passwords needs root' },
)

// kerberos asks for a ticket (the request section); its logins with real tickets are in
// test/e2e/security/kerberos-login.test.ts, against a real KDC
authenticatorContract('kerberos', async () => ({
  authenticator: createAuthenticator(configured({ kind: 'kerberos', kerberos: { keytab: '/nonexistent.keytab' } }), {
    accounts: noAccounts,
  }),
  addUser: async () => {},
}))

authenticatorContract('dummy', async () => ({
  authenticator: createAuthenticator(configured({ kind: 'dummy' }), {
    accounts: { passwordHash: async () => undefined, setPasswordHash: async () => {}, get: async () => undefined },
  }),
  addUser: async () => {},
  acceptsAnyPassword: true,
}))

// oidc: against an edgehub serving its OpenID Connect provider on loopback (the hub is one), in this process
let provider: { issuer: string; close(): Promise<void> } | undefined
afterAll(async () => provider?.close())
async function oidcProvider(): Promise<string> {
  if (provider) return provider.issuer
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const config = configSchema.parse({
    publicUrl: base,
    dataDir: tmpdir(),
    redis: { url: redis.url, prefix: 'contract-oidc:' },
    oidc: {
      clients: [
        {
          clientId: 'contract',
          clientSecret: 'contract-secret-0123456789abcdef0123',
          redirectUris: ['http://127.0.0.1:9/hub/oauth_callback'],
        },
      ],
    },
  }) as Config
  const deps = await buildDeps(config, { log: createLogger('contract', { level: 'error' }) })
  const server = serve({ fetch: buildApp(deps).fetch, hostname: '127.0.0.1', port })
  await waitFor('the provider to listen', async () => (await fetch(`${base}/hub/health`).catch(() => null))?.ok)
  provider = {
    issuer: `${base}/hub/oidc`,
    async close() {
      await new Promise((r) => server.close(r))
      await deps.close()
    },
  }
  return provider.issuer
}

authenticatorContract('oidc', async () => ({
  authenticator: createAuthenticator(
    configured({
      kind: 'oidc',
      oidc: {
        issuer: await oidcProvider(),
        clientId: 'contract',
        clientSecret: 'contract-secret-0123456789abcdef0123',
        scopes: ['openid', 'profile', 'groups'],
      },
    }),
    { accounts: { passwordHash: async () => undefined, setPasswordHash: async () => {}, get: async () => undefined } },
  ),
  addUser: async () => {},
}))

// lti13: begin needs only the platform's URLs; a callback without an id_token is refused before any key is fetched
authenticatorContract('lti13', async () => ({
  authenticator: createAuthenticator(
    configured({
      kind: 'lti13',
      lti13: {
        issuer: 'http://127.0.0.1:9',
        clientIds: ['contract-tool'],
        authorizeUrl: 'http://127.0.0.1:9/authorize',
        jwksUrl: 'http://127.0.0.1:9/jwks',
        deploymentIds: ['1'],
      },
    }),
    { accounts: noAccounts },
  ),
  addUser: async () => {},
}))

it('runs the contract for every registered authenticator', () => {
  // a plug-in registered without an authenticatorContract(...) in this file would not be held to it
  expect(Object.keys(AUTHENTICATORS).filter((k) => !contractKinds.has(k))).toEqual([])
})
