// JupyterHub's OAuth 2 provider: /hub/api/oauth2/authorize (with the consent page) and
// /hub/api/oauth2/token (authorization code, client secret, optional PKCE). What single-user servers
// and services use to learn who a browser belongs to.
import { createHash } from 'node:crypto'
import { Hono, type Context } from 'hono'
import type { HubEnv } from '../http/env'
import { checkXsrf } from '../http/xsrf'
import { can, serverTarget } from '../http/authorize'
import { BadRequest, Forbidden } from '../../../runtime/src/errors'
import { scopeProblem, scopesNotHeld } from '../scopes/scope-set'
import { IDENTIFY_SCOPES } from '../scopes/vocabulary'
import type { OAuthClient } from './clients'
import { ConsentPage } from './consent-page'

type C = Context<HubEnv>

const PARAMS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'state',
  'scope',
  'code_challenge',
  'code_challenge_method',
] as const

/** The redirect URI as the client registered it, relative ones resolved against the public URL. */
function sameRedirect(c: C, given: string, registered: string): boolean {
  const base = `${c.var.deps.publicUrl}/`
  try {
    return new URL(given, base).href === new URL(registered, base).href
  } catch {
    return false
  }
}

function withQuery(uri: string, params: Record<string, string>, c: C): string {
  const u = new URL(uri, `${c.var.deps.publicUrl}/`)
  for (const [k, v] of Object.entries(params)) if (v) u.searchParams.set(k, v)
  // keep a relative redirect relative (the browser resolves it against the proxy it came through)
  return /^https?:/.test(uri) ? u.href : u.pathname + u.search
}

/** What every token for the client carries: the user's identity and access to the client itself. */
function requiredScopes(client: OAuthClient): string[] {
  const access =
    client.kind === 'server'
      ? `access:servers!server=${client.user}/${client.server}`
      : `access:services!service=${client.service}`
  return [...IDENTIFY_SCOPES, access]
}

async function params(c: C): Promise<Record<string, string>> {
  const source: Record<string, unknown> = c.req.method === 'POST' ? await c.req.parseBody() : c.req.query()
  if (c.req.method === 'POST') checkXsrf(c, typeof source._xsrf === 'string' ? source._xsrf : undefined)
  const out: Record<string, string> = {}
  for (const k of PARAMS) if (typeof source[k] === 'string') out[k] = source[k] as string
  return out
}

async function authorize(c: C) {
  const d = c.var.deps
  // Who asks comes first, as in JupyterHub (tornado's @authenticated): without a login, a GET (or
  // HEAD) is sent to log in before the request is judged, and a POST is refused. A browser's login
  // only: an API token must not be able to mint itself new tokens here.
  const id = c.var.identity?.via === 'cookie' ? c.var.identity : null
  if (!id) {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') throw new Forbidden('log in to authorize an application')
    const here = `${c.req.path}?${new URLSearchParams(await params(c))}`
    return c.redirect(`/hub/login?next=${encodeURIComponent(here)}`)
  }
  const p = await params(c)
  const client = p.client_id ? await d.oauthClients.get(p.client_id) : undefined
  // Errors the user must see here: the redirect URI cannot be trusted yet.
  if (!client) throw new BadRequest(`unknown OAuth client ${JSON.stringify(p.client_id ?? '')}`, 'invalid_client')
  if (!p.redirect_uri || !sameRedirect(c, p.redirect_uri, client.redirectUri))
    throw new BadRequest(`redirect_uri does not match the one registered for ${client.id}`, 'invalid_request')
  const back = (q: Record<string, string>) => c.redirect(withQuery(p.redirect_uri, { ...q, state: p.state ?? '' }, c))
  if (p.response_type !== 'code')
    return back({ error: 'unsupported_response_type', error_description: 'only response_type=code is supported' })
  if (p.code_challenge && !['S256', 'plain'].includes(p.code_challenge_method ?? 'plain'))
    return back({ error: 'invalid_request', error_description: 'code_challenge_method must be S256 or plain' })

  const allowed =
    client.kind === 'server'
      ? can(c, 'access:servers', await serverTarget(c, client.user, client.server, 'access:servers'))
      : can(c, 'access:services', { service: client.service })
  if (!allowed) throw new Forbidden(`you do not have permission to access ${client.description}`)

  const requested = (p.scope ?? '').split(/\s+/).filter((s) => s && s !== 'identify')
  const bad = requested.map(scopeProblem).find((x) => x)
  if (bad) return back({ error: 'invalid_scope', error_description: bad })
  const required = requiredScopes(client)
  // beyond what every token for it carries, a client gets what it asked for, may ask for, and the user holds
  const extra = requested.filter(
    (s) => !required.includes(s) && (client.allowedScopes.includes(s) || client.allowedScopes.includes('inherit')),
  )
  const notHeld = await scopesNotHeld(extra, { kind: 'user', name: id.user.name }, id.scopes, (u) => d.groups.ofUser(u))
  const grantable = extra.filter((s) => !notHeld.includes(s))
  const scopes = [...required, ...grantable]

  const own = client.kind === 'server' && client.user === id.user.name
  const earlier = (await d.tokens.list(id.user.name)).filter((t) => t.clientId === client.id)
  const already = earlier.some((t) => scopes.every((s) => t.scopes.includes(s)))
  if (c.req.method === 'GET' && !own && !client.noConfirm && !already) {
    return c.html(
      <ConsentPage
        user={{ name: id.user.name, admin: id.user.admin }}
        client={client.description}
        scopes={scopes}
        params={p}
        xsrf={c.var.xsrf}
      />,
    )
  }
  const code = await d.oauthCodes.issue({
    clientId: client.id,
    user: id.user.name,
    redirectUri: p.redirect_uri,
    scopes,
    sessionId: id.sid ?? '',
    codeChallenge: p.code_challenge ?? '',
    codeChallengeMethod: p.code_challenge ? (p.code_challenge_method ?? 'plain') : '',
  })
  return back({ code })
}

const tokenError = (c: C, status: 400 | 401, error: string, description: string) =>
  c.json({ error, error_description: description }, status, { 'Cache-Control': 'no-store' })

function pkceOk(verifier: string | undefined, challenge: string, method: string): boolean {
  if (!challenge) return true
  if (!verifier || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return false
  return method === 'S256'
    ? createHash('sha256').update(verifier).digest('base64url') === challenge
    : verifier === challenge
}

async function token(c: C) {
  const d = c.var.deps
  const body = (await c.req.parseBody().catch(() => ({}))) as Record<string, unknown>
  const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined)
  let clientId = str('client_id')
  let secret = str('client_secret')
  const basic = c.req.header('authorization')?.match(/^Basic\s+(\S+)$/i)
  if (basic) {
    const [u, s] = Buffer.from(basic[1], 'base64').toString().split(':')
    clientId = decodeURIComponent(u ?? '')
    secret = decodeURIComponent(s ?? '')
  }
  if (str('grant_type') !== 'authorization_code')
    return tokenError(c, 400, 'unsupported_grant_type', 'grant_type must be authorization_code')
  if (!clientId || !secret || !(await d.oauthClients.checkSecret(clientId, secret)))
    return tokenError(c, 401, 'invalid_client', 'unknown client or wrong secret')
  const grant = await d.oauthCodes.redeem(str('code') ?? '')
  if (!grant || grant.clientId !== clientId)
    return tokenError(c, 400, 'invalid_grant', 'the code is unknown, expired, already used or not for this client')
  if (str('redirect_uri') !== grant.redirectUri)
    return tokenError(c, 400, 'invalid_grant', 'redirect_uri differs from the authorization request')
  if (!pkceOk(str('code_verifier'), grant.codeChallenge, grant.codeChallengeMethod))
    return tokenError(c, 400, 'invalid_grant', 'code_verifier does not match the code_challenge')
  const client = await d.oauthClients.get(clientId)
  const user = await d.users.get(grant.user)
  if (!client || !user) return tokenError(c, 400, 'invalid_grant', 'the user or client no longer exists')
  const expiresIn = Math.floor(d.config.sessions.maxAgeSec)
  const { token: accessToken } = await d.tokens.issue(user.name, {
    note: `OAuth token for ${client.description}`,
    scopes: grant.scopes,
    sessionId: grant.sessionId || undefined,
    clientId,
    expiresInSec: expiresIn,
  })
  return c.json(
    { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn, scope: grant.scopes.join(' ') },
    200,
    { 'Cache-Control': 'no-store' },
  )
}

export function oauthRoutes(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()
  app.get('/authorize', authorize)
  app.post('/authorize', authorize)
  app.post('/token', token)
  return app
}
