// The token page: a user's API tokens, made and revoked.
import { Hono } from 'hono'
import { Forbidden, NotFound } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { sentence } from './layout'
import { TokenPage } from './token'
import { tokenLifetime } from '../state/token-lifetime'
import { can } from '../http/authorize'
import { scopeProblem, scopesNotHeld } from '../scopes/scope-set'
import { type C, form, viewer } from './page-kit'

export function tokenPages(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  const tokenPage = async (c: C, extra: { created?: string; error?: string } = {}, status: 200 | 400 | 403 = 200) => {
    const name = c.var.identity!.user.name
    const tokens = (await c.var.deps.tokens.list(name)).filter((t) => t.kind === 'api')
    return c.html(
      <TokenPage
        xsrf={c.var.xsrf}
        user={viewer(c)!}
        tokens={tokens}
        maxSec={c.var.deps.config.hub.tokenExpiresInMaxSec}
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
    if (!can(c, 'tokens', { user: id.user.name })) throw new Forbidden('your roles do not let you create tokens')
    const scopes = (f.scopes ?? '').split(/\s+/).filter(Boolean)
    const lifetime = tokenLifetime(f.expires_in ? Number(f.expires_in) : undefined, d.config.hub.tokenExpiresInMaxSec)
    if (lifetime.problem) return tokenPage(c, { error: `Choose how long the token lasts (${lifetime.problem}).` }, 400)
    const bad = scopes.map(scopeProblem).find((p) => p)
    if (bad) return tokenPage(c, { error: sentence(bad) }, 400)
    if (scopes.length) {
      const beyond = await scopesNotHeld(scopes, { kind: 'user', name: id.user.name }, id.scopes, (u) =>
        d.groups.ofUser(u),
      )
      if (beyond.length) return tokenPage(c, { error: `You do not hold ${beyond.join(', ')}.` }, 403)
    }
    const { token } = await d.tokens.issue(id.user.name, {
      note: f.note || 'Requested via the token page',
      expiresInSec: lifetime.expiresInSec,
      scopes: scopes.length ? scopes : undefined,
    })
    return tokenPage(c, { created: token })
  })
  app.post('/token/:id/revoke', async (c) => {
    await form(c)
    const d = c.var.deps
    const o = await d.tokens.ownerOf(c.req.param('id')) // by owner only: an undecodable record can be revoked too
    if (!o || o.service || o.user !== c.var.identity!.user.name) throw new NotFound('no such token')
    await d.tokens.revoke(c.req.param('id'))
    return c.redirect('/hub/token')
  })
  return app
}
