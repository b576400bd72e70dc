// whoami: an example service that logs users in through the hub's OpenID Connect provider
// (openid-client, authorization code + PKCE) and shows who they are. Run it as a managed service:
//
//   services:
//     - name: whoami
//       url: http://127.0.0.1:10201
//       command: [node, /path/to/edgehub/examples/whoami-oidc/server.mjs]   # absolute: it runs in its own directory
//       env: { OIDC_CLIENT_SECRET: "<the secret below>" }
//   oidc:
//     clients:
//       - clientId: whoami
//         clientSecret: "<a long random secret>"
//         redirectUris: ["http://127.0.0.1:8000/services/whoami/callback"]
//
// Environment: JUPYTERHUB_SERVICE_URL (where to listen, given by the hub), JUPYTERHUB_PUBLIC_URL,
// JUPYTERHUB_SERVICE_PREFIX, OIDC_CLIENT_ID (default "whoami"), OIDC_CLIENT_SECRET, OIDC_ISSUER
// (default <public URL>/hub/oidc).
import { createServer } from 'node:http'
import { randomBytes } from 'node:crypto'
import * as oidc from 'openid-client'

const env = process.env
const publicUrl = (env.JUPYTERHUB_PUBLIC_URL ?? 'http://127.0.0.1:8000').replace(/\/$/, '')
const prefix = env.JUPYTERHUB_SERVICE_PREFIX ?? '/services/whoami/'
const listen = new URL(env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10201')
const issuer = new URL(env.OIDC_ISSUER ?? `${publicUrl}/hub/oidc`)
const redirectUri = `${publicUrl}${prefix}callback`
const COOKIE = 'whoami-session'

// An example keeps its sessions in memory; a real service would use its own store.
const pending = new Map() // state -> { verifier, created }
const sessions = new Map() // session id -> { claims, userinfo, scope }

let config
async function oidcConfig() {
  config ??= await oidc.discovery(
    issuer,
    env.OIDC_CLIENT_ID ?? 'whoami',
    undefined,
    oidc.ClientSecretBasic(env.OIDC_CLIENT_SECRET),
    {
      // the example stack runs over http on loopback
      execute: issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
    },
  )
  return config
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const cookieOf = (req) =>
  (req.headers.cookie ?? '')
    .split(/;\s*/)
    .map((p) => p.split('='))
    .find(([k]) => k === COOKIE)?.[1]

function page(res, status, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
  res.end(
    `<!doctype html><meta charset="utf-8"><title>whoami</title><body style="font:16px system-ui;max-width:40em;margin:3em auto">${body}</body>`,
  )
}

async function login(res) {
  const cfg = await oidcConfig()
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  pending.set(state, { verifier, created: Date.now() })
  const url = oidc.buildAuthorizationUrl(cfg, {
    redirect_uri: redirectUri,
    scope: 'openid profile groups',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  })
  res.writeHead(302, { location: url.href })
  res.end()
}

async function callback(req, res) {
  const cfg = await oidcConfig()
  const current = new URL(req.url, publicUrl)
  const state = current.searchParams.get('state') ?? ''
  const p = pending.get(state)
  pending.delete(state)
  if (!p || Date.now() - p.created > 600_000)
    return page(res, 400, '<h1>Login expired</h1><p><a href="./">Try again</a></p>')
  const tokens = await oidc.authorizationCodeGrant(cfg, current, { pkceCodeVerifier: p.verifier, expectedState: state })
  const claims = tokens.claims()
  const userinfo = await oidc.fetchUserInfo(cfg, tokens.access_token, claims.sub)
  const sid = randomBytes(18).toString('base64url')
  sessions.set(sid, { claims, userinfo, scope: tokens.scope ?? '' })
  res.writeHead(302, { location: prefix, 'set-cookie': `${COOKIE}=${sid}; Path=${prefix}; HttpOnly; SameSite=Lax` })
  res.end()
}

function whoami(res, s) {
  const u = s.userinfo
  page(
    res,
    200,
    `<h1>Signed in as <span id="name">${esc(u.preferred_username ?? u.name ?? s.claims.sub)}</span></h1>
<p>Groups: <span id="groups">${esc((u.groups ?? []).join(', ') || 'none')}</span></p>
<p>Admin: <span id="admin">${u.admin ? 'yes' : 'no'}</span></p>
<p>ID token issued by <code>${esc(s.claims.iss)}</code> for <code>${esc(s.claims.aud)}</code>.</p>`,
  )
}

createServer(async (req, res) => {
  try {
    const path = new URL(req.url, publicUrl).pathname
    if (path === `${prefix}callback`) return await callback(req, res)
    const s = sessions.get(cookieOf(req) ?? '')
    if (s) return whoami(res, s)
    return await login(res)
  } catch (err) {
    console.error('whoami: request failed:', err?.message ?? err)
    page(res, 502, '<h1>Login failed</h1><p>The hub could not confirm who you are. <a href="./">Try again</a>.</p>')
  }
}).listen(Number(listen.port), listen.hostname, () => console.log(`whoami listening on ${listen.href}`))
