// The plug-in registries as the configuration sees them: each spawner and authenticator is registered
// under its own kind, spawner.kind and auth.kind take exactly the registered kinds, each kind's
// settings have a default for every key, and the hub's pages can follow an authenticator's
// capabilities (the native one keeps passwords; the dummy one does not, and says so on the login page).
import { describe, expect, it } from 'vitest'
import { SPAWNER_KINDS, SPAWNERS, spawnerSettings } from '../../spawners/src'
import { AUTH_KINDS, AUTHENTICATORS, createAuthenticator, type PasswordAccounts } from '../../auth/src'
import { configSchema } from '../../control-plane/src/config/schema'

describe('the spawner registry', () => {
  it('names each plug-in by its kind, and its settings parse with every default', () => {
    for (const [kind, plugin] of Object.entries(SPAWNERS)) {
      expect(plugin.kind).toBe(kind)
      expect(plugin.settings.safeParse(undefined).success, kind).toBe(true)
      expect(spawnerSettings[kind as keyof typeof spawnerSettings]).toBe(plugin.settings)
    }
  })

  it("is what spawner.kind accepts, with each kind's settings under spawner.KIND", () => {
    for (const kind of SPAWNER_KINDS) expect(configSchema.parse({ spawner: { kind } }).spawner[kind]).toBeDefined()
    const unknown = configSchema.safeParse({ spawner: { kind: 'nope' } })
    expect(unknown.success).toBe(false)
    expect(JSON.stringify(unknown.error?.issues)).toContain('local-process')
  })
})

const noAccounts: PasswordAccounts = {
  passwordHash: async () => undefined,
  setPasswordHash: async () => {},
  get: async () => undefined,
}

describe('the authenticator registry', () => {
  it('names each plug-in by its kind, and auth.kind accepts exactly those', () => {
    for (const [kind, plugin] of Object.entries(AUTHENTICATORS)) expect(plugin.kind).toBe(kind)
    for (const kind of AUTH_KINDS) expect(configSchema.parse({ auth: { kind } }).auth.kind).toBe(kind)
    expect(configSchema.safeParse({ auth: { kind: 'ldap-someday' } }).success).toBe(false)
  })

  it('makes the configured authenticator, whose capabilities the pages follow', async () => {
    const native = createAuthenticator(configSchema.parse({ auth: { kind: 'native' } }).auth, { accounts: noAccounts })
    expect(native.kind).toBe('native')
    expect(native.passwords?.signup).toBe(false)
    expect(native.loginNotice).toBeUndefined()
    expect(await native.authenticate({ username: 'ann', password: 'x' })).toBeNull()
    const dummy = createAuthenticator(configSchema.parse({ auth: { kind: 'dummy' } }).auth, { accounts: noAccounts })
    expect(dummy.passwords).toBeUndefined()
    expect(dummy.loginNotice).toMatch(/any user name and password/)
    expect(await dummy.authenticate({ username: 'ann', password: 'x' })).toEqual({ name: 'ann' })
  })
})
