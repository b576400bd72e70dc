// The token page: a user's API tokens, made and revoked, and the applications (OAuth clients) holding
// tokens of theirs, revoked as a whole. Tokens are made with the REST API's checks (api/tokens.ts):
// the `tokens` scope on oneself, scopes the user's roles hold and the session holds, a bounded note
// and lifetime. A refusal is shown on the page with the form as it was filled in.
import { Hono } from 'hono'
import { BadRequest, Forbidden, HubError, NotFound } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { sentence } from './layout'
import { type AuthorizedApp, latestOf, type TokenForm, TOKEN_NOTE_MAX, TokenPage } from './token'
import { tokenLifetime } from '../state/token-lifetime'
import { need, userTarget } from '../http/authorize'
import { scopeProblem, scopesNotHeld } from '../scopes/scope-set'
import { beyondOwner } from '../api/tokens'
import type { TokenRecord } from '../state/tokens'
import { type C, form, viewer } from './page-kit'
import { accountGrants, revokeAccountGrant } from '../oidc/account-grants'
import { oidcKeyNames } from '../state/keys'

/** The most scopes one request from the page may name. */
const TOKEN_SCOPES_MAX = 50

/** Messages after a change, by the `done` query parameter (only these words reach the page). */
const NOTICES: Record<string, string> = {
  revoked: 'Token revoked.',
  'app-revoked': 'Application revoked: the tokens it held for you no longer work.',
}

/**
 * The user's authorised applications: OAuth clients holding tokens of theirs, by client, with each
 * client's own description; then, when the hub is an OpenID Connect provider, the clients holding a
 * grant of theirs, by grant.
 */
async function authorizedApps(c: C, tokens: readonly TokenRecord[]): Promise<AuthorizedApp[]> {
  const d = c.var.deps
  const byClient = new Map<string, TokenRecord[]>()
  for (const t of tokens) if (t.clientId) byClient.set(t.clientId, [...(byClient.get(t.clientId) ?? []), t])
  const oauth = await Promise.all(
    [...byClient].map(async ([clientId, held]): Promise<AuthorizedApp> => ({
      clientId,
      name: (await d.oauthClients.get(clientId))?.description || clientId,
      kind: 'oauth',
      lastUsed: latestOf(held.map((t) => t.lastActivity)),
      firstAuthorized: held.map((t) => t.created).sort()[0] || null,
      revokeAction: `/hub/token/client/${encodeURIComponent(clientId)}/revoke`,
    })),
  )
  if (!d.config.oidc.enabled) return oauth
  const grants = await accountGrants(d.redis, oidcKeyNames(d.keys.prefix), c.var.identity!.user.name)
  return [
    ...oauth,
    ...grants.map((g): AuthorizedApp => ({
      clientId: g.clientId,
      name: g.clientId,
      kind: 'oidc',
      lastUsed: null,
      firstAuthorized: g.created,
      revokeAction: `/hub/token/oidc/${encodeURIComponent(g.grantId)}/revoke`,
    })),
  ]
}

export function tokenPages(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  const tokenPage = async (
    c: C,
    extra: { created?: string; error?: string; form?: TokenForm } = {},
    status: 200 | 400 | 403 = 200,
  ) => {
    const name = c.var.identity!.user.name
    const tokens = (await c.var.deps.tokens.list(name)).filter((t) => t.kind === 'api')
    return c.html(
      <TokenPage
        xsrf={c.var.xsrf}
        user={viewer(c)!}
        tokens={tokens}
        apps={await authorizedApps(c, tokens)}
        maxSec={c.var.deps.config.hub.tokenExpiresInMaxSec}
        notice={NOTICES[c.req.query('done') ?? '']}
        {...extra}
      />,
      status,
    )
  }
  app.get('/token', (c) => tokenPage(c))

  app.post('/token', async (c) => {
    const f = await form(c)
    const d = c.var.deps
    const id = c.var.identity!
    const kept: TokenForm = { note: f.note, expires_in: f.expires_in, scopes: f.scopes }
    try {
      need(c, 'tokens', await userTarget(c, id.user.name, 'tokens'))
      const note = (f.note ?? '').trim()
      if (note.length > TOKEN_NOTE_MAX) throw new BadRequest(`the note is longer than ${TOKEN_NOTE_MAX} characters`)
      if (f.expires_in && !/^\d{1,10}$/.test(f.expires_in)) throw new BadRequest('choose how long the token lasts')
      const lifetime = tokenLifetime(f.expires_in ? Number(f.expires_in) : undefined, d.config.hub.tokenExpiresInMaxSec)
      if (lifetime.problem) throw new BadRequest(`choose how long the token lasts (${lifetime.problem})`)
      const scopes = [...new Set((f.scopes ?? '').split(/\s+/).filter(Boolean))]
      if (scopes.length > TOKEN_SCOPES_MAX) throw new BadRequest(`ask for at most ${TOKEN_SCOPES_MAX} scopes`)
      const bad = scopes.map(scopeProblem).find((p) => p)
      if (bad) throw new BadRequest(bad)
      const user = await d.users.get(id.user.name)
      if (!user) throw new NotFound(`user ${id.user.name} not found`)
      // named as asked for (the REST API names their expansion): beyond the user's roles or this session
      const notInSession = await scopesNotHeld(scopes, { kind: 'user', name: user.name }, id.scopes, (u) =>
        d.groups.ofUser(u),
      )
      const beyond: string[] = []
      for (const s of scopes) if (notInSession.includes(s) || (await beyondOwner(d, [s], user)).length) beyond.push(s)
      if (beyond.length)
        throw new Forbidden(`you do not hold ${beyond.join(', ')}, so a token of yours cannot be given it`)
      const { token, record } = await d.tokens.issue(user.name, {
        note: note || 'Requested via the token page',
        expiresInSec: lifetime.expiresInSec,
        scopes: scopes.length ? scopes : undefined,
      })
      d.log.info('issued token', { user: user.name, token_id: record.id, by: user.name })
      c.header('Cache-Control', 'no-store') // the page shows the new token: kept by no cache
      return tokenPage(c, { created: token })
    } catch (err) {
      if (!(err instanceof HubError) || !err.expose) throw err
      return tokenPage(c, { error: sentence(err.message), form: kept }, err.status === 403 ? 403 : 400)
    }
  })

  app.post('/token/:id/revoke', async (c) => {
    await form(c)
    const d = c.var.deps
    const o = await d.tokens.ownerOf(c.req.param('id')) // by owner only: an undecodable record can be revoked too
    if (!o || o.service || o.user !== c.var.identity!.user.name) throw new NotFound('no such token')
    await d.tokens.revoke(c.req.param('id'))
    return c.redirect('/hub/token?done=revoked', 303)
  })

  // An authorised application as a whole: every token of the user's that the client holds goes, at the
  // hub and at every proxy (Tokens.revoke), so the application's access ends with this request.
  app.post('/token/client/:client/revoke', async (c) => {
    await form(c)
    const d = c.var.deps
    const name = c.var.identity!.user.name
    const clientId = c.req.param('client')
    const held = (await d.tokens.list(name)).filter((t) => t.clientId === clientId)
    if (!held.length) throw new NotFound('no application of that name holds a token of yours')
    for (const t of held)
      await d.tokens.revoke(t.id).catch((err) => {
        if (!(err instanceof NotFound)) throw err // revoked meanwhile
      })
    d.log.info('revoked authorised application', { user: name, client: clientId, tokens: held.length })
    return c.redirect('/hub/token?done=app-revoked', 303)
  })

  // A client of the hub's OpenID Connect provider: the user's grant to it goes, with every code and
  // token issued under it; the client gets access again only by signing the user in again.
  app.post('/token/oidc/:grant/revoke', async (c) => {
    await form(c)
    const d = c.var.deps
    const name = c.var.identity!.user.name
    const grantId = c.req.param('grant')
    if (!d.config.oidc.enabled || !(await revokeAccountGrant(d.redis, oidcKeyNames(d.keys.prefix), name, grantId)))
      throw new NotFound('no application of yours has that grant')
    d.log.info('revoked an OpenID Connect grant', { user: name })
    return c.redirect('/hub/token?done=app-revoked', 303)
  })
  return app
}
