// The `oidc` section of the config: defaults, client metadata, and one line per bad key at startup.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { loadConfig } from '../config/load'
import { ConfigError } from '../../../runtime/src/errors'
import { clientMetadata, lifetimes } from './provider'

const dir = mkdtempSync(join(tmpdir(), 'edgehub-oidc-cfg-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
const load = (oidc: unknown) => {
  const file = join(dir, `edgehub-${++n}.yaml`)
  writeFileSync(file, stringify({ oidc }))
  return loadConfig({ file, env: {} }).config
}

function problems(oidc: unknown): string[] {
  try {
    load(oidc)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as Error).message
      .split('\n')
      .slice(1)
      .map((l) => l.trim())
  }
  throw new Error('expected a ConfigError')
}

const SECRET = 's'.repeat(32)

describe('config oidc', () => {
  it('is on by default with no clients, 30-day key rotation and hour-long tokens', () => {
    const { oidc } = loadConfig({ env: {}, cwd: tmpdir() }).config
    expect(oidc).toEqual({
      enabled: true,
      keyRotationDays: 30,
      accessTokenTtlSec: 3600,
      idTokenTtlSec: 3600,
      refreshTokenTtlSec: 14 * 24 * 3600,
      clients: [],
    })
  })

  it('names each bad key on a line of its own', () => {
    expect(
      problems({
        accessTokenTtlSec: 0,
        clients: [
          { clientId: 'a b', redirectUris: ['ftp://x/cb'] },
          { clientId: 'svc', clientSecret: 'short', redirectUris: [] },
          {
            clientId: 'svc',
            redirectUris: ['https://svc.example/cb#frag'],
            allowedScopes: ['email'],
            tokenEndpointAuthMethod: 'client_secret_post',
          },
          { clientId: 'x', redirectUris: ['https://x.example/cb'], color: 'red' },
        ],
      }),
    ).toEqual([
      'oidc.accessTokenTtlSec: Too small: expected number to be >0',
      'oidc.clients.0.clientId: letters, digits and . _ ~ - (up to 128)',
      'oidc.clients.0.redirectUris.0: expected an http or https URL',
      'oidc.clients.1.clientSecret: at least 32 characters',
      'oidc.clients.1.redirectUris: Too small: expected array to have >=1 items',
      'oidc.clients.2.redirectUris.0: a redirect URI has no #fragment',
      'oidc.clients.2.allowedScopes.0: Invalid option: expected one of "openid"|"profile"|"groups"|"offline_access"',
      'oidc.clients.3.color: unknown setting',
    ])
  })

  it('refuses a client id defined twice and a public client with a secret method', () => {
    expect(
      problems({
        clients: [
          { clientId: 'svc', clientSecret: SECRET, redirectUris: ['https://svc.example/cb'] },
          { clientId: 'svc', redirectUris: ['https://svc.example/cb'], tokenEndpointAuthMethod: 'client_secret_basic' },
        ],
      }),
    ).toEqual([
      'oidc.clients.1.clientId: client svc is defined twice',
      'oidc.clients.1.tokenEndpointAuthMethod: a public client (no clientSecret) sends no secret; remove it',
    ])
  })
})

describe('clientMetadata', () => {
  it('makes a client with a secret confidential (client_secret_basic unless told otherwise)', () => {
    const [c] = load({ clients: [{ clientId: 'svc', clientSecret: SECRET, redirectUris: ['https://svc.example/cb'] }] })
      .oidc.clients
    expect(clientMetadata(c)).toEqual({
      client_id: 'svc',
      client_secret: SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: ['https://svc.example/cb'],
      post_logout_redirect_uris: [],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'openid profile groups offline_access',
    })
  })

  it('makes a client without a secret public, limited to its allowed scopes', () => {
    const [c] = load({
      clients: [{ clientId: 'app', redirectUris: ['http://127.0.0.1:5000/cb'], allowedScopes: ['openid', 'groups'] }],
    }).oidc.clients
    expect(clientMetadata(c)).toMatchObject({ token_endpoint_auth_method: 'none', scope: 'openid groups' })
    expect(clientMetadata(c)).not.toHaveProperty('client_secret')
  })
})

describe('lifetimes', () => {
  it('keeps a grant as long as its refresh tokens and an OIDC session as long as a hub session', () => {
    const config = load({ refreshTokenTtlSec: 90 * 86400 })
    expect(lifetimes(config)).toMatchObject({
      RefreshToken: 90 * 86400,
      Grant: 90 * 86400,
      Session: config.sessions.maxAgeSec,
    })
  })
})
