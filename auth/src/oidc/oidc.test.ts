// The oidc authenticator's pieces that need no provider: settings and presets resolved (and the one
// line naming a missing or bad key), claims read by name or dotted path, what reaches a server's
// environment. The flows themselves are tested against real providers (test/e2e/auth, the contract).
import { describe, expect, it } from 'vitest'
import { ConfigError, HubError } from '../../../runtime/src/errors'
import { claimAt, groupsFrom, usernameFrom } from './claims'
import { createOidcAuthenticator } from './index'
import { oidcSettingsProblems, resolveProvider } from './presets'
import { oidcSettings } from './settings'

const settings = (s: Record<string, unknown>) => oidcSettings.parse(s)
const problem = (f: () => unknown) => {
  try {
    f()
  } catch (err) {
    if (err instanceof ConfigError) return err.message
    throw err
  }
  return undefined
}
const issues = (s: Record<string, unknown>) => {
  const r = oidcSettings.safeParse(s)
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
}

describe('settings and presets', () => {
  it('names the missing key in one line', () => {
    expect(problem(() => resolveProvider(settings({ issuer: 'https://idp.example.edu' }), {}))).toBe(
      'edgehub: auth.oidc.clientId: needed with auth.kind oidc',
    )
    expect(problem(() => resolveProvider(settings({ clientId: 'hub' }), {}))).toMatch(
      /^edgehub: auth\.oidc\.issuer: needed with the generic preset/,
    )
    expect(problem(() => resolveProvider(settings({ clientId: 'hub', preset: 'microsoft' }), {}))).toMatch(
      /^edgehub: auth\.oidc\.tenant: needed with the microsoft preset/,
    )
    expect(
      problem(() => resolveProvider(settings({ clientId: 'hub', tokenUrl: 'https://idp.example.edu/token' }), {})),
    ).toBe('edgehub: auth.oidc.authorizeUrl: needed with the other')
  })

  it('reports the same problems at the configuration check, each on one line', () => {
    expect(oidcSettingsProblems(settings({ preset: 'microsoft' }))).toEqual([
      'auth.oidc.clientId: needed with auth.kind oidc',
      'auth.oidc.tenant: needed with the microsoft preset (or auth.oidc.issuer)',
    ])
    expect(oidcSettingsProblems(settings({ preset: 'github', clientId: 'Iv1.x' }))).toEqual([])
  })

  it('refuses plain http off loopback and the hub’s own variables, naming the key', () => {
    expect(issues({ issuer: 'http://idp.example.edu' })).toEqual([
      'issuer: expected an https URL (http only on 127.0.0.1, [::1] or localhost)',
    ])
    expect(issues({ issuer: 'http://127.0.0.1:8000/hub/oidc' })).toEqual([])
    expect(issues({ accessTokenEnv: 'JUPYTERHUB_API_TOKEN' })).toEqual([
      'accessTokenEnv: JUPYTERHUB_* variables are the hub’s own',
    ])
    expect(issues({ httpTimeoutSec: 0 })).toHaveLength(1)
    expect(issues({ httpTimeoutSec: 61 })).toHaveLength(1)
    expect(issues({ allowedOrganizations: ['org/team'] })).toHaveLength(1)
  })

  it('fills in each preset, with explicit settings winning', () => {
    const ms = resolveProvider(settings({ clientId: 'hub', preset: 'microsoft', tenant: 'contoso.edu' }), {})
    expect(ms.issuer).toBe('https://login.microsoftonline.com/contoso.edu/v2.0')
    expect(ms.label).toBe('Microsoft')
    const google = resolveProvider(settings({ clientId: 'hub', preset: 'google' }), {})
    expect(google).toMatchObject({ issuer: 'https://accounts.google.com', usernameClaim: 'email', groupsClaim: '' })
    const gitlab = resolveProvider(settings({ clientId: 'hub', preset: 'gitlab', usernameClaim: 'nickname' }), {})
    expect(gitlab).toMatchObject({ issuer: 'https://gitlab.com', usernameClaim: 'nickname', groupsClaim: 'groups' })
    const gh = resolveProvider(
      settings({
        clientId: 'hub',
        preset: 'github',
        githubUrl: 'https://ghe.example.edu/',
        githubApiUrl: 'https://ghe.example.edu/api/v3',
      }),
      {},
    )
    expect(gh.endpoints).toEqual({
      authorize: 'https://ghe.example.edu/login/oauth/authorize',
      token: 'https://ghe.example.edu/login/oauth/access_token',
      userinfo: 'https://ghe.example.edu/api/v3/user',
    })
    expect(gh).toMatchObject({ usernameClaim: 'login', scopes: ['read:org'] })
    expect(gh.issuer).toBeUndefined()
  })

  it('takes the client secret from the environment when the file has none', () => {
    const s = settings({ clientId: 'hub', issuer: 'https://idp.example.edu' })
    expect(resolveProvider(s, { EDGEHUB_AUTH_OIDC_CLIENT_SECRET: 'from-env' }).clientSecret).toBe('from-env')
    expect(resolveProvider(s, {}).clientSecret).toBeUndefined()
    expect(
      resolveProvider(settings({ ...s, clientSecret: 'from-file' }), { EDGEHUB_AUTH_OIDC_CLIENT_SECRET: 'x' })
        .clientSecret,
    ).toBe('from-file')
  })
})

describe('claims', () => {
  const claims = {
    sub: 'u1',
    preferred_username: 'Ada',
    'https://example.edu/groups': ['x'],
    realm_access: { roles: ['physics', 7, '', 'staff'] },
    team: 'solo',
  }

  it('reads a claim by name, or by dotted path into nested claims', () => {
    expect(claimAt(claims, 'https://example.edu/groups')).toEqual(['x'])
    expect(claimAt(claims, 'realm_access.roles')).toEqual(['physics', 7, '', 'staff'])
    expect(claimAt(claims, 'realm_access.missing.deeper')).toBeUndefined()
  })

  it('gives the groups as names: strings only, one name as a list, none when the claim is missing', () => {
    expect(groupsFrom(claims, 'realm_access.roles')).toEqual(['physics', 'staff'])
    expect(groupsFrom(claims, 'team')).toEqual(['solo'])
    expect(groupsFrom(claims, 'groups')).toEqual([])
    expect(groupsFrom(claims, '')).toBeUndefined()
  })

  it('refuses a login without the user name claim with a message naming it', () => {
    expect(usernameFrom(claims, 'preferred_username')).toBe('Ada')
    const err = (() => {
      try {
        usernameFrom(claims, 'email')
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(HubError)
    expect((err as HubError).status).toBe(403)
    expect((err as HubError).message).toContain('"email"')
  })
})

describe('the authenticator', () => {
  // the loopback discard port: discovery fails at once, and nothing here needs it
  const base = { clientId: 'hub', issuer: 'http://127.0.0.1:9/oidc' }

  it('puts the access token in the environment only when accessTokenEnv names a variable', () => {
    const state = { access_token: 'at-1', claims: {} }
    expect(createOidcAuthenticator(settings(base), {}).spawnEnv!(state)).toEqual({})
    const a = createOidcAuthenticator(settings({ ...base, accessTokenEnv: 'IDP_TOKEN' }), {})
    expect(a.spawnEnv!(state)).toEqual({ IDP_TOKEN: 'at-1' })
    expect(a.spawnEnv!(undefined)).toEqual({})
  })

  it('has no password form, a "Sign in with" label, and nothing to refresh without auth state', async () => {
    const a = createOidcAuthenticator(settings({ ...base, label: 'Campus', autoLogin: true }), {})
    expect(a.passwordForm).toBe(false)
    expect(a.redirect).toMatchObject({ label: 'Campus', auto: true })
    expect(await a.authenticate({ username: 'x', password: 'y' })).toBeNull()
    expect(await a.refresh!({ name: 'x' })).toBeUndefined()
    expect(a.logoutUrl!({ id_token: 'x' }, 'http://hub/after')).toBeUndefined() // no end-session known
  })
})
