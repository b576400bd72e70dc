import { describe, expect, it } from 'vitest'
import type { Authenticator } from './authenticator'
import { sideBySide } from './side-by-side'
import { createAuthenticator } from './index'
import { ConfigError } from '../../runtime/src/errors'

/** Small authenticators of the contract's shape, each saying who it is. */
const password = (kind: string, users: Record<string, string>): Authenticator => ({
  kind,
  passwordForm: true,
  async authenticate({ username, password: pw }) {
    return users[username] === pw ? { name: username } : null
  },
  async refresh({ name }) {
    return { name, groups: [kind] }
  },
  logoutUrl: () => `https://${kind}.example/logout`,
})
const provider: Authenticator = {
  kind: 'provider',
  passwordForm: false,
  async authenticate() {
    return null
  },
  redirect: {
    label: 'Provider',
    auto: true,
    begin: async ({ state }) => ({ url: `https://idp.example/auth?state=${state}`, flow: {} }),
    complete: async () => ({ name: 'ada' }),
  },
  async refresh() {
    return null
  },
  logoutUrl: () => 'https://idp.example/end-session',
  spawnEnv: () => ({ TOKEN: 't' }),
}

describe('authenticators side by side (auth.also)', () => {
  const both = sideBySide([provider, password('local', { bob: 'pw' })])

  it('offers the provider button and the password form, without skipping to the provider', () => {
    expect(both.passwordForm).toBe(true)
    expect(both.redirect?.label).toBe('Provider')
    expect(both.redirect?.auto).toBe(false) // the form would never be seen
  })

  it('tags each login with the authenticator that vouched for it', async () => {
    expect(await both.authenticate({ username: 'bob', password: 'pw' })).toEqual({ name: 'bob', via: 'local' })
    expect(await both.authenticate({ username: 'bob', password: 'no' })).toBeNull()
    expect(await both.redirect!.complete({ params: new URLSearchParams(), flow: {}, callbackUrl: '' })).toEqual({
      name: 'ada',
      via: 'provider',
    })
  })

  it('sends refresh, logout and server environment to the one the user logged in with', async () => {
    expect(await both.refresh!({ name: 'bob', via: 'local' })).toEqual({ name: 'bob', groups: ['local'], via: 'local' })
    expect(await both.refresh!({ name: 'ada', via: 'provider' })).toBeNull() // the provider ended it; bob is untouched
    expect(both.logoutUrl!(undefined, '/', 'local')).toBe('https://local.example/logout')
    expect(both.logoutUrl!(undefined, '/', 'provider')).toBe('https://idp.example/end-session')
    expect(both.spawnEnv!(undefined, 'local')).toEqual({})
    expect(both.spawnEnv!(undefined, 'provider')).toEqual({ TOKEN: 't' })
  })

  it('refuses combinations that cannot work, naming auth.also', () => {
    const accounts = {
      passwordHash: async () => undefined,
      setPasswordHash: async () => {},
      get: async () => undefined,
    }
    const auth = (kind: string, also: string[]) =>
      ({ kind, also, native: { minPasswordLength: 8, scryptCost: 1024 }, 'first-use': {}, dummy: {} }) as never
    expect(() => createAuthenticator(auth('native', ['native']), { accounts })).toThrow(ConfigError)
    expect(() => createAuthenticator(auth('native', ['native']), { accounts })).toThrow(/auth\.also: lists auth\.kind/)
  })
})
