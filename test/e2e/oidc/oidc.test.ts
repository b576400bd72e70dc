// The hub as an OpenID Connect provider: one `edgehub hub` from a config file on a real Redis (the provider is a
// Koa app on Node's own request and response), with openid-client as the relying party.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as oidc from 'openid-client'
import { stringify } from 'yaml'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'
import { oidcKeyNames } from '../../../control-plane/src/protocol'
import { Client, json } from '../../support/client'
import { edgehubCli, startHarness, type Harness } from '../../support/harness'
import { cli, rootOf, type Admin } from '../../support/people'
import {
  CONFIDENTIAL,
  NARROW,
  PASSWORD,
  PUBLIC,
  codeFlow,
  followToClient,
  header,
  oidcSettings,
  relyingParty,
  startAuthorization,
  verifiesAgainst,
} from './oidc.config'

let stack: Harness
let root: Admin
let base: string
let issuer: string
let rp: oidc.Configuration
/** How soon the hub signs with a rotated key: it reads the key set at most every 2 s (docs/oidc.md). */
const KEY_CHECK_MS = 2000

/** A browser with a hub session. */
async function browserOf(user: string): Promise<Client> {
  const b = new Client(base)
  const res = await b.login(user, PASSWORD)
  expect(res.status).toBe(302)
  return b
}

const meta = () => rp.serverMetadata()
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
const form = (url: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    body: new URLSearchParams(body),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  })
const userinfo = (token: string) => fetch(meta().userinfo_endpoint!, { headers: { authorization: `Bearer ${token}` } })

/** The browser leg only: the code the client would receive. */
async function codeFor(browser: Client, params: Record<string, string> = {}) {
  const started = await startAuthorization(rp, CONFIDENTIAL.redirectUri, params)
  const { callback } = await followToClient(browser, started.url, CONFIDENTIAL.redirectUri)
  return { code: callback.searchParams.get('code')!, verifier: started.verifier, callback }
}

beforeAll(async () => {
  // one hub, reached directly (publicUrl names it), from a config file as an operator writes it
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  issuer = `${base}/hub/oidc`
  stack = await startHarness({
    proxies: 0,
    redis: 'open', // the storage check below lists keys, which the hub's Redis log-in may not
    settings: {
      publicUrl: base,
      hub: { port },
      logLevel: process.env.OIDC_TEST_LOG ? 'debug' : 'warn',
      oidc: oidcSettings,
    },
  })
  // the users an operator adds on the hub's machine
  for (const name of ['alice', 'bob', 'carol']) cli(stack, ['user', 'add', name, '--password-stdin'], PASSWORD)
  root = await rootOf(stack, 'root', PASSWORD)
}, 120_000)

// a relying party per test: its JWKS cache starts empty (rotations below replace the keys)
beforeEach(async () => {
  rp = await relyingParty(issuer, 'confidential')
})

afterAll(async () => stack?.stop(), 60_000)

describe('discovery', () => {
  it('publishes the issuer at /hub/oidc with the code flow, PKCE S256, refresh and the hub claims', async () => {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`, {
      headers: { 'x-request-id': 'discovery-1' },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-request-id')).toBe('discovery-1') // a Response the hub's handlers did not build
    const doc = await json(res)
    expect(doc).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/auth`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/me`,
      jwks_uri: `${issuer}/jwks`,
      revocation_endpoint: `${issuer}/token/revocation`,
      end_session_endpoint: `${issuer}/session/end`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: expect.arrayContaining(['RS256']),
    })
    expect(doc.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']))
    expect(doc.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'groups', 'offline_access']))
    expect(doc.claims_supported).toEqual(
      expect.arrayContaining(['sub', 'name', 'preferred_username', 'groups', 'admin', 'scopes']),
    )
  })

  it('makes every URL from the public URL, whatever Host the request came with', async () => {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`, {
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' },
    })
    expect((await json(res)).token_endpoint).toBe(`${issuer}/token`)
  })

  it('publishes the public half of the signing key only', async () => {
    const { keys } = await json(await fetch(`${issuer}/jwks`))
    expect(keys.length).toBeGreaterThanOrEqual(1)
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' })
    expect(keys[0].d).toBeUndefined()
  })
})

describe('authorization code flow with PKCE', () => {
  it('logs a browser with a hub session in without asking and issues ID, access and refresh tokens', async () => {
    const browser = await browserOf('alice')
    const tokens = await codeFlow(rp, browser, CONFIDENTIAL.redirectUri)
    expect(tokens.token_type).toMatch(/^bearer$/i)
    expect(tokens.access_token).toBeTruthy()
    expect(tokens.refresh_token).toBeTruthy()
    expect(tokens.claims()).toMatchObject({
      iss: issuer,
      aud: CONFIDENTIAL.clientId,
      sub: 'alice',
      name: 'alice',
      preferred_username: 'alice',
      groups: [],
      admin: false,
    })
    expect(tokens.claims()!.scopes).toEqual(expect.arrayContaining(['access:servers!user=alice', 'tokens!user=alice']))
  })

  it('sends a browser without a hub session to the hub login page and back', async () => {
    const browser = new Client(base)
    const started = await startAuthorization(rp, CONFIDENTIAL.redirectUri)
    const { callback, sawLogin } = await followToClient(browser, started.url, CONFIDENTIAL.redirectUri, 'bob')
    expect(sawLogin).toBe(true)
    const tokens = await oidc.authorizationCodeGrant(rp, callback, {
      pkceCodeVerifier: started.verifier,
      expectedState: started.state,
      expectedNonce: started.nonce,
    })
    expect(tokens.claims()?.sub).toBe('bob')
  })

  it('answers prompt=none with login_required once the hub session has ended', async () => {
    const browser = await browserOf('alice')
    await codeFlow(rp, browser, CONFIDENTIAL.redirectUri) // an OIDC session now exists
    await (await browser.get('/hub/logout')).text()
    const started = await startAuthorization(rp, CONFIDENTIAL.redirectUri, { prompt: 'none' })
    const { callback } = await followToClient(browser, started.url, CONFIDENTIAL.redirectUri)
    expect(callback.searchParams.get('error')).toBe('login_required')
  })

  it('takes a browser sending two hub session cookies for one without a session, as the hub and the proxy do', async () => {
    const browser = await browserOf('alice')
    await codeFlow(rp, browser, CONFIDENTIAL.redirectUri) // an OIDC session now exists
    // the same valid cookie twice: whichever one a parser picked, it would log alice in
    const session = browser.jar.get('edgehub-session')!
    const plain = browser.cookieHeader.bind(browser)
    browser.cookieHeader = () => `${plain()}; edgehub-session=${session}`
    const silent = await startAuthorization(rp, CONFIDENTIAL.redirectUri, { prompt: 'none' })
    expect(
      (await followToClient(browser, silent.url, CONFIDENTIAL.redirectUri)).callback.searchParams.get('error'),
    ).toBe('login_required')
    browser.cookieHeader = plain
    const again = await startAuthorization(rp, CONFIDENTIAL.redirectUri, { prompt: 'none' })
    expect(
      (await followToClient(browser, again.url, CONFIDENTIAL.redirectUri)).callback.searchParams.get('code'),
    ).toBeTruthy()
  })

  it('follows the hub session to another user', async () => {
    const browser = await browserOf('alice')
    await codeFlow(rp, browser, CONFIDENTIAL.redirectUri)
    await browser.login('bob', PASSWORD) // the same browser, now bob's hub session
    const tokens = await codeFlow(rp, browser, CONFIDENTIAL.redirectUri)
    expect(tokens.claims()?.sub).toBe('bob')
  })

  it('lets a public client in with PKCE and no secret', async () => {
    const pub = await relyingParty(issuer, 'public')
    const tokens = await codeFlow(pub, await browserOf('alice'), PUBLIC.redirectUri)
    expect(tokens.claims()).toMatchObject({ sub: 'alice', aud: PUBLIC.clientId })
    expect(tokens.refresh_token).toBeTruthy()
  })

  it('refuses a public client without PKCE', async () => {
    const pub = await relyingParty(issuer, 'public')
    const url = oidc.buildAuthorizationUrl(pub, { redirect_uri: PUBLIC.redirectUri, scope: 'openid', state: 's1' })
    const { callback } = await followToClient(await browserOf('alice'), url, PUBLIC.redirectUri)
    expect(callback.searchParams.get('error')).toBe('invalid_request')
    expect(callback.searchParams.get('error_description')).toMatch(/PKCE/)
  })

  it('gives a client only the scopes it may ask for', async () => {
    const narrow = await relyingParty(issuer, 'narrow')
    const browser = await browserOf('alice')
    const tokens = await codeFlow(narrow, browser, NARROW.redirectUri, { params: { scope: 'openid' } })
    const claims = tokens.claims()!
    expect(claims.scopes).toBeUndefined()
    expect(claims.groups).toBeUndefined()
    expect(claims.name).toBeUndefined()
    const started = await startAuthorization(narrow, NARROW.redirectUri, { scope: 'openid profile' })
    const { callback } = await followToClient(browser, started.url, NARROW.redirectUri)
    expect(callback.searchParams.get('error')).toBe('invalid_scope')
  })
})

describe('userinfo and refresh', () => {
  it('answer with the user record as it is now', async () => {
    const tokens = await codeFlow(rp, await browserOf('carol'), CONFIDENTIAL.redirectUri)
    expect(await oidc.fetchUserInfo(rp, tokens.access_token, 'carol')).toEqual({
      sub: 'carol',
      name: 'carol',
      preferred_username: 'carol',
      groups: [],
      admin: false,
      scopes: expect.arrayContaining(['access:servers!user=carol']),
    })
    // an admin makes carol an admin and puts her in a new group, through the REST API
    expect((await root.client.api('PATCH', '/users/carol', { admin: true })).status).toBe(200)
    expect((await root.client.api('POST', '/groups/physics', { users: ['carol'] })).status).toBe(201)
    expect(await oidc.fetchUserInfo(rp, tokens.access_token, 'carol')).toMatchObject({
      admin: true,
      groups: ['physics'],
    })
    const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!)
    expect(refreshed.access_token).not.toBe(tokens.access_token)
    expect(refreshed.claims()).toMatchObject({ sub: 'carol', admin: true, groups: ['physics'] })
    expect(await oidc.fetchUserInfo(rp, refreshed.access_token, 'carol')).toMatchObject({ admin: true })
  })

  it('stop working for a user who was deleted through the API', async () => {
    // an admin adds dave on the admin page, and later deletes him with the REST API
    const admin = await browserOf('root')
    expect((await admin.postForm('/hub/admin/users', { username: 'dave', password: PASSWORD })).status).toBe(302)
    const tokens = await codeFlow(rp, await browserOf('dave'), CONFIDENTIAL.redirectUri)
    expect((await admin.api('DELETE', '/users/dave')).status).toBe(204)
    const res = await userinfo(tokens.access_token)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/)
    const refresh = await form(
      meta().token_endpoint!,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! },
      { authorization: basic(CONFIDENTIAL.clientId, CONFIDENTIAL.clientSecret) },
    )
    expect(refresh.status).toBe(400)
    expect((await json(refresh)).error).toBe('invalid_grant')
  })
})

describe('signing key rotation', () => {
  const kids = async () =>
    (await json(await fetch(meta().jwks_uri!))).keys.map((k: { kid: string }) => k.kid) as string[]
  /** `edgehub ARGS` as an operator runs it on the hub's machine (with another config file: file). */
  const operator = (args: string[], file = stack.configFile) => edgehubCli(file, args)
  /** `edgehub oidc rotate-keys` as an operator runs it: the kid of the key that now signs, if it rotated. */
  const rotateKeys = async (...flags: string[]) => {
    const out = await operator(['oidc', 'rotate-keys', ...flags])
    if (out === 'no rotation due') return undefined
    const kid = /^rotated: key (\S+) signs new ID tokens$/.exec(out)?.[1]
    expect(kid, out).toBeTruthy()
    return kid
  }
  /** The hub reads the key set at most every 2 s (docs/oidc.md): until it signs with kid. */
  const signingWith = (kid: string) =>
    waitFor(`the hub to sign with ${kid}`, async () => (await kids())[0] === kid, { timeoutMs: KEY_CHECK_MS + 5000 })
  /** The hub's settings as `edgehub config check` prints them. */
  const configured = async () => JSON.parse((await operator(['config', 'check'])).replace(/^[^\n]*\n/, ''))

  it('signs with the key published since the last rotation and keeps publishing the old one', async () => {
    const browser = await browserOf('alice')
    const before = (await codeFlow(rp, browser, CONFIDENTIAL.redirectUri)).id_token!
    const [current, next] = await kids()
    expect(header(before).kid).toBe(current)
    expect(await rotateKeys('--force')).toBe(next)
    await signingWith(next)
    // openid-client verifies the new ID token with the JWKS it cached before the rotation
    const after = (await codeFlow(rp, browser, CONFIDENTIAL.redirectUri)).id_token!
    expect(header(after).kid).toBe(next)
    expect(await kids()).toEqual([next, expect.any(String), current])
    expect(await verifiesAgainst(meta().jwks_uri!, before)).toBe(true)
    expect(await verifiesAgainst(meta().jwks_uri!, after)).toBe(true)
  })

  it('keeps OIDC sessions across a rotation (cookie secrets rotate with the keys)', async () => {
    const browser = await browserOf('alice')
    await codeFlow(rp, browser, CONFIDENTIAL.redirectUri)
    await signingWith((await rotateKeys('--force'))!)
    // the OIDC session cookie, signed with the previous secret, still names the session
    const started = await startAuthorization(rp, CONFIDENTIAL.redirectUri, { prompt: 'none' })
    const { callback } = await followToClient(browser, started.url, CONFIDENTIAL.redirectUri)
    expect(callback.searchParams.get('code')).toBeTruthy()
  })

  it('is refused with one line naming oidc.enabled by a hub that is no provider', async () => {
    const file = join(stack.dir, 'no-oidc.yaml')
    writeFileSync(file, stringify({ ...stack.settings, oidc: { enabled: false } }))
    await expect(operator(['oidc', 'rotate-keys', '--force'], file)).rejects.toThrow(
      /^edgehub oidc rotate-keys --force: edgehub: oidc\.enabled is off: this hub is no OpenID Connect provider$/,
    )
  })

  it('drops a retired key once the ID tokens it signed have expired', async () => {
    const [current, next, ...retired] = await kids()
    expect(retired.length).toBeGreaterThan(0)
    // as if idTokenTtlSec + 1 hour had passed since they were retired (the key set: docs/redis-schema.md)
    const idTokenTtlSec = (await configured()).oidc.idTokenTtlSec as number
    const keySet = oidcKeyNames(stack.prefix).keySet
    const set = JSON.parse((await stack.state.get(keySet))!)
    for (const k of set.retired) k.retired -= idTokenTtlSec + 3600
    await stack.state.set(keySet, JSON.stringify(set))
    expect(await rotateKeys()).toBeUndefined()
    await waitFor('the hub to publish the keys left', async () => (await kids()).length === 2, {
      timeoutMs: KEY_CHECK_MS + 5000,
    })
    expect(await kids()).toEqual([current, next])
  })
})

describe('errors', () => {
  it('refuses an unregistered redirect_uri on the page, without redirecting (invalid_request)', async () => {
    const browser = await browserOf('alice')
    const started = await startAuthorization(rp, 'http://127.0.0.1:9/elsewhere')
    const res = await browser.get(started.url.pathname + started.url.search, { accept: 'text/html' })
    expect(res.status).toBe(400)
    expect(res.headers.get('location')).toBeNull()
    const page = await res.text()
    expect(page).toContain('invalid_request')
    expect(page).toContain('redirect_uri')
  })

  it('refuses an unknown client on the page (invalid_client)', async () => {
    const started = await startAuthorization(rp, CONFIDENTIAL.redirectUri, { client_id: 'nobody' })
    const res = await (await browserOf('alice')).get(started.url.pathname + started.url.search, { accept: 'text/html' })
    expect(res.status).toBe(400)
    expect(res.headers.get('location')).toBeNull()
    expect(await res.text()).toContain('invalid_client')
  })

  it('answers a wrong client secret with invalid_client', async () => {
    const { code, verifier } = await codeFor(await browserOf('alice'))
    const res = await form(
      meta().token_endpoint!,
      { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: CONFIDENTIAL.redirectUri },
      { authorization: basic(CONFIDENTIAL.clientId, 'not-the-secret-0123456789abcdef0123456789') },
    )
    expect(res.status).toBe(401)
    expect((await json(res)).error).toBe('invalid_client')
  })

  it('answers a replayed code with invalid_grant and revokes what the code gave', async () => {
    const { code, verifier } = await codeFor(await browserOf('alice'))
    const exchange = () =>
      form(
        meta().token_endpoint!,
        { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: CONFIDENTIAL.redirectUri },
        {
          authorization: basic(CONFIDENTIAL.clientId, CONFIDENTIAL.clientSecret),
        },
      )
    const first = await exchange()
    expect(first.status).toBe(200)
    const { access_token } = await json(first)
    expect((await userinfo(access_token)).status).toBe(200)
    const second = await exchange()
    expect(second.status).toBe(400)
    expect((await json(second)).error).toBe('invalid_grant')
    expect((await userinfo(access_token)).status).toBe(401)
  })

  it('redeems a code once when two requests race for it', async () => {
    const { code, verifier } = await codeFor(await browserOf('alice'))
    const body = {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: CONFIDENTIAL.redirectUri,
    }
    const auth = { authorization: basic(CONFIDENTIAL.clientId, CONFIDENTIAL.clientSecret) }
    const statuses = (await Promise.all([1, 2, 3].map(() => form(meta().token_endpoint!, body, auth))))
      .map((r) => r.status)
      .sort()
    expect(statuses).toEqual([200, 400, 400])
  })

  it('answers a wrong code_verifier with invalid_grant', async () => {
    const { code } = await codeFor(await browserOf('alice'))
    const res = await form(
      meta().token_endpoint!,
      {
        grant_type: 'authorization_code',
        code,
        code_verifier: oidc.randomPKCECodeVerifier(),
        redirect_uri: CONFIDENTIAL.redirectUri,
      },
      {
        authorization: basic(CONFIDENTIAL.clientId, CONFIDENTIAL.clientSecret),
      },
    )
    expect(res.status).toBe(400)
    expect((await json(res)).error).toBe('invalid_grant')
  })

  it('answers a revoked access token at userinfo with invalid_token', async () => {
    const tokens = await codeFlow(rp, await browserOf('alice'), CONFIDENTIAL.redirectUri)
    await oidc.tokenRevocation(rp, tokens.access_token)
    const res = await userinfo(tokens.access_token)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/)
  })

  it('answers an expired access token at userinfo with invalid_token', async () => {
    const tokens = await codeFlow(rp, await browserOf('alice'), CONFIDENTIAL.redirectUri)
    // let it expire without waiting: its stored expiry moves into the past
    const key = oidcKeyNames(stack.prefix).model('AccessToken', tokens.access_token)
    const payload = JSON.parse((await stack.state.hget(key, 'payload'))!)
    await stack.state.hset(key, 'payload', JSON.stringify({ ...payload, exp: Math.floor(Date.now() / 1000) - 3600 }))
    const res = await userinfo(tokens.access_token)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/)
  })

  it('answers a revoked refresh token with invalid_grant', async () => {
    const tokens = await codeFlow(rp, await browserOf('alice'), CONFIDENTIAL.redirectUri)
    await oidc.tokenRevocation(rp, tokens.refresh_token!)
    const res = await form(
      meta().token_endpoint!,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! },
      { authorization: basic(CONFIDENTIAL.clientId, CONFIDENTIAL.clientSecret) },
    )
    expect(res.status).toBe(400)
    expect((await json(res)).error).toBe('invalid_grant')
  })
})

describe('storage', () => {
  it('keeps everything under the hub prefix with a TTL', async () => {
    await codeFlow(rp, await browserOf('alice'), CONFIDENTIAL.redirectUri)
    const keys = await stack.state.keys(`${stack.prefix}oidc:*`)
    expect(keys.length).toBeGreaterThan(0)
    for (const k of keys) {
      if (k.endsWith(':key-set')) continue
      expect(await stack.state.ttl(k), k).toBeGreaterThan(0)
    }
  })
})
