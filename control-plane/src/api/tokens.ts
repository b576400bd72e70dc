// /hub/api/users/{name}/tokens[/{token_id}]: list, issue (with note, expiry and scopes no wider
// than both the caller's and the owner's), read and revoke API tokens.
import { Hono, type Context } from 'hono'
import type { HubEnv } from '../http/env'
import { need, principal, userTarget } from '../http/authorize'
import type { Deps } from '../deps'
import { BadRequest, Forbidden, NotFound } from '../../../runtime/src/errors'
import type { TokenRecord } from '../state/tokens'
import type { UserRecord } from '../state/users'
import { expand, intersect, scopeProblem, scopesNotHeld, toStrings, type ScopeSet } from '../scopes/scope-set'
import { tokenScopes, userScopes } from '../scopes/resolve'
import { jsonBody } from './body'
import { tokenLifetime } from '../state/token-lifetime'

type C = Context<HubEnv>

/** The owner's scopes, read once for any number of token models. */
const ownerScopes = async (d: Deps, owner: UserRecord) => userScopes(d, owner, await d.groups.ofUser(owner.name))

export async function tokenModel(d: Deps, t: TokenRecord, owner: UserRecord, held?: ScopeSet) {
  const scopes = await tokenScopes(d, t, owner, held ?? (await ownerScopes(d, owner)))
  return {
    // a user's token names its user; `service` is left out (the spec types it as a string)
    id: t.id,
    kind: 'api_token',
    user: t.user,
    roles: [],
    scopes: toStrings(scopes),
    note: t.note,
    created: t.created,
    expires_at: t.expiresAt,
    last_activity: t.lastActivity,
    session_id: t.sessionId,
    oauth_client:
      t.kind === 'server'
        ? `Server at ${t.server ? `/user/${t.user}/${t.server}/` : `/user/${t.user}/`}`
        : 'JupyterHub',
  }
}

/**
 * The raw scopes a new token asks for, as JupyterHub reads the body: `scopes` as given (`[]` is a
 * token with no scopes), or the scopes of the `roles` named (deprecated there, still accepted), or,
 * with neither, the `token` role's (`inherit` unless the config redefines it). Not both.
 */
function requestedScopes(d: Deps, body: { scopes?: string[]; roles?: string[] }): string[] {
  if (body.scopes !== undefined && body.roles !== undefined)
    throw new BadRequest('Can only assign one of scopes or roles when creating tokens.')
  if (body.roles !== undefined) {
    const unknown = body.roles.filter((r) => !d.roles.byName.has(r))
    if (unknown.length) throw new BadRequest(`No such role: ${unknown.join(', ')}`)
    return [...new Set(body.roles.flatMap((r) => d.roles.byName.get(r)!.scopes))]
  }
  return [...new Set(body.scopes ?? d.roles.defaultTokenScopes())]
}

/** Of `scopes` (expanded for the owner; `inherit` is the owner's own), those the owner does not hold. */
export async function beyondOwner(d: Deps, scopes: readonly string[], owner: UserRecord): Promise<string[]> {
  const rest = scopes.filter((s) => s !== 'inherit')
  if (!rest.length) return []
  const wanted = expand(rest, { kind: 'user', name: owner.name })
  const granted = new Set(toStrings(await intersect(wanted, await ownerScopes(d, owner), (x) => d.groups.ofUser(x))))
  return toStrings(wanted).filter((s) => !granted.has(s))
}

async function owner(c: C, scope: string): Promise<UserRecord> {
  const name = c.req.param('name')!
  need(c, scope, await userTarget(c, name, scope))
  const u = await c.var.deps.users.get(name)
  if (!u) throw new NotFound(`user ${name} not found`)
  return u
}

export function tokenApi(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  app.get('/:name/tokens', async (c) => {
    const u = await owner(c, 'read:tokens')
    const d = c.var.deps
    const held = await ownerScopes(d, u)
    return c.json({
      api_tokens: await Promise.all((await d.tokens.list(u.name)).map((t) => tokenModel(d, t, u, held))),
    })
  })

  app.post('/:name/tokens', async (c) => {
    const u = await owner(c, 'tokens')
    const me = principal(c)!
    const d = c.var.deps
    const body = await jsonBody(c, { expires_in: 'number', note: 'string', scopes: 'string[]', roles: 'string[]' })
    const lifetime = tokenLifetime(body.expires_in, d.config.hub.tokenExpiresInMaxSec)
    if (lifetime.problem) throw new BadRequest(lifetime.problem)
    if (body.note !== undefined && body.note.length > 1000) throw new BadRequest('note is longer than 1000 characters')
    const scopes = requestedScopes(d, body)
    const bad = scopes.map(scopeProblem).find((p) => p)
    if (bad) throw new BadRequest(bad)
    // JupyterHub's check: nothing the owner does not hold (400, naming the expanded scopes)
    const excess = await beyondOwner(d, scopes, u)
    if (excess.length)
      throw new BadRequest(`Not assigning requested scopes ${excess.join(',')} not held by User ${u.name}`)
    // Only a caller with the user's full powers (a browser session, or an `inherit` token of the
    // user's own) may skip the check; a narrower token cannot mint a wider one.
    const id = c.var.identity
    const unlimited =
      me.kind === 'user' && me.name === u.name && (id?.via === 'cookie' || !!id?.token?.scopes.includes('inherit'))
    if (!scopes.includes('inherit') || !unlimited) {
      // an admin's "inherit" token for another user: everything that user holds must be the admin's too
      const raw = scopes.includes('inherit') ? toStrings(await ownerScopes(d, u)) : scopes
      const beyond = await scopesNotHeld(raw, { kind: 'user', name: u.name }, me.scopes, (x) => d.groups.ofUser(x))
      if (beyond.length)
        throw new Forbidden(
          `not assigning requested scopes ${beyond.join(', ')} not held by ${me.kind === 'service' ? 'service ' : ''}${me.name}`,
        )
    }
    const note =
      body.note ??
      `Requested via api${me.kind === 'service' ? ` by service ${me.name}` : me.name !== u.name ? ` by user ${me.name}` : ''}`
    const { token, record } = await d.tokens.issue(u.name, { note, expiresInSec: lifetime.expiresInSec, scopes })
    d.log.info('issued token', { user: u.name, token_id: record.id, by: me.name })
    return c.json({ ...(await tokenModel(d, record, u)), token }, 201)
  })

  app.get('/:name/tokens/:id', async (c) => {
    const u = await owner(c, 'read:tokens')
    const d = c.var.deps
    const t = await d.tokens.get(c.req.param('id'))
    if (!t || t.user !== u.name) throw new NotFound(`no such token ${c.req.param('id')} for user ${u.name}`)
    return c.json(await tokenModel(d, t, u))
  })

  app.delete('/:name/tokens/:id', async (c) => {
    const u = await owner(c, 'tokens')
    const d = c.var.deps
    // by owner only: a token whose record cannot be decoded can be revoked too
    const id = c.req.param('id')
    const o = await d.tokens.ownerOf(id)
    if (!o || o.service || o.user !== u.name) throw new NotFound(`no such token ${id} for user ${u.name}`)
    await d.tokens.revoke(id)
    return c.body(null, 204)
  })

  return app
}
