// The OIDC scenario's clients, and a relying party's side of the code flow: openid-client for the
// protocol, a cookie-jar Client as the browser (redirects followed by hand, as a browser would).
import * as oidc from 'openid-client'
import { createPublicKey, verify } from 'node:crypto'
import type { Client } from '../../support/client'

export const PASSWORD = 'correct horse battery'

export const CONFIDENTIAL = {
  clientId: 'grader',
  clientSecret: 'grader-secret-0123456789abcdef0123456789',
  redirectUri: 'http://127.0.0.1:9/services/grader/callback',
}
export const PUBLIC = { clientId: 'notebook-app', redirectUri: 'http://127.0.0.1:9/app/callback' }
export const NARROW = {
  clientId: 'narrow',
  clientSecret: 'narrow-secret-0123456789abcdef0123456789',
  redirectUri: 'http://127.0.0.1:9/narrow/cb',
}

/** The `oidc` config section of the scenario. */
export const oidcSettings = {
  clients: [
    {
      clientId: CONFIDENTIAL.clientId,
      clientSecret: CONFIDENTIAL.clientSecret,
      redirectUris: [CONFIDENTIAL.redirectUri],
      postLogoutRedirectUris: ['http://127.0.0.1:9/services/grader/'],
    },
    { clientId: PUBLIC.clientId, redirectUris: [PUBLIC.redirectUri] },
    {
      clientId: NARROW.clientId,
      clientSecret: NARROW.clientSecret,
      tokenEndpointAuthMethod: 'client_secret_post',
      redirectUris: [NARROW.redirectUri],
      allowedScopes: ['openid'],
    },
  ],
}

/**
 * openid-client for one of the clients. `via` sends every request to another origin (one hub
 * replica) while URLs stay the issuer's, as a load balancer would.
 */
export async function relyingParty(
  issuer: string,
  who: 'confidential' | 'public' | 'narrow',
  via?: string,
): Promise<oidc.Configuration> {
  const execute = [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks]
  const opts: oidc.DiscoveryRequestOptions = { execute }
  if (via) {
    const origin = new URL(issuer).origin
    opts[oidc.customFetch] = (url, init) => fetch(url.replace(origin, via), init as RequestInit)
  }
  const server = new URL(issuer)
  if (who === 'public') return oidc.discovery(server, PUBLIC.clientId, undefined, oidc.None(), opts)
  if (who === 'narrow')
    return oidc.discovery(server, NARROW.clientId, undefined, oidc.ClientSecretPost(NARROW.clientSecret), opts)
  return oidc.discovery(
    server,
    CONFIDENTIAL.clientId,
    undefined,
    oidc.ClientSecretBasic(CONFIDENTIAL.clientSecret),
    opts,
  )
}

export interface Started {
  url: URL
  verifier: string
  state: string
  nonce: string
}

export async function startAuthorization(
  rp: oidc.Configuration,
  redirectUri: string,
  params: Record<string, string> = {},
): Promise<Started> {
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri,
    scope: 'openid profile groups',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  })
  return { url, verifier, state, nonce }
}

/**
 * Follows the hub's redirects as the browser until it is sent to `redirectUri` (that URL, with the
 * code or error). At the hub's login page it logs in as `login` when given, else fails. Every hub URL
 * is requested at browser.base (one replica, or the proxy).
 */
export async function followToClient(
  browser: Client,
  start: URL,
  redirectUri: string,
  login?: string,
): Promise<{ callback: URL; sawLogin: boolean }> {
  let next = start.href
  let sawLogin = false
  for (let hop = 0; hop < 12; hop++) {
    if (next.startsWith(redirectUri)) return { callback: new URL(next), sawLogin }
    // the hub's URLs name its public origin; this browser reaches the hub at browser.base
    const u = new URL(next)
    let res: Response
    if (u.pathname === '/hub/login') {
      if (!login) throw new Error(`sent to the login page: ${next}`)
      sawLogin = true
      res = await browser.postForm(u.pathname + u.search, { username: login, password: PASSWORD })
    } else {
      res = await browser.get(u.pathname + u.search)
    }
    const body = await res.text()
    const location = res.headers.get('location')
    const autoPost =
      !location && res.status === 200 && body.match(/<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/)
    if (autoPost) {
      // a page that posts itself at once (oidc-provider ends the previous user's session this way)
      const fields = Object.fromEntries(
        [...autoPost[2].matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]),
      )
      const action = new URL(autoPost[1].replace(/&amp;/g, '&'), u)
      const posted = await browser.request(action.pathname + action.search, {
        method: 'POST',
        body: new URLSearchParams(fields),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
      await posted.text()
      const to = posted.headers.get('location')
      if (!to) throw new Error(`no redirect from the form posted to ${action.pathname}: ${posted.status}`)
      next = new URL(to, action).href
      continue
    }
    if (!location)
      throw new Error(
        `no redirect from ${u.pathname}: ${res.status} ${body.match(/<p>(.*?)<\/p>/)?.[1] ?? body.slice(0, 300)}`,
      )
    next = new URL(location, u).href
  }
  throw new Error('too many redirects')
}

/** The whole browser leg of a code flow, then the code exchanged by the relying party. */
export async function codeFlow(
  rp: oidc.Configuration,
  browser: Client,
  redirectUri: string,
  opts: { login?: string; params?: Record<string, string> } = {},
) {
  const started = await startAuthorization(rp, redirectUri, opts.params)
  const { callback } = await followToClient(browser, started.url, redirectUri, opts.login)
  return oidc.authorizationCodeGrant(rp, callback, {
    pkceCodeVerifier: started.verifier,
    expectedState: started.state,
    expectedNonce: started.nonce,
  })
}

export const header = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()) as { kid: string; alg: string }

/** Checks a JWT's RS256 signature against a JWKS, as any client would: true when a published key verifies it. */
export async function verifiesAgainst(jwksUrl: string, jwt: string): Promise<boolean> {
  const { keys } = (await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string } & Record<string, string>> }
  const jwk = keys.find((k) => k.kid === header(jwt).kid)
  if (!jwk) return false
  const [h, p, s] = jwt.split('.')
  const key = createPublicKey({ key: jwk, format: 'jwk' } as Parameters<typeof createPublicKey>[0])
  return verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))
}
