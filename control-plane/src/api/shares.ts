// JupyterHub 5's sharing API (docs/sharing.md): /shares/{owner}[/{server}] (who has access to a
// server: list, grant, revoke), /share-codes/{owner}[/{server}] (codes to hand out), and
// /users/{name}/shared[/{owner}/{server}], /groups/{name}/shared[/{owner}/{server}] (what is shared
// with someone; leaving a share). Lists are always paginated ({items, _pagination}), as JupyterHub's.
import { Hono, type Context } from 'hono'
import type { HubEnv } from '../http/env'
import { can, need, serverTarget, userTarget } from '../http/authorize'
import type { Deps } from '../deps'
import { BadRequest, Forbidden, HubError, NotFound } from '../../../runtime/src/errors'
import { serverBaseUrl } from '../spawn/orchestrator'
import { serverUrl } from '../http/subdomain'
import { scopeProblem } from '../scopes/scope-set'
import { SHARE_CODE_EXPIRES_SEC, type Grantee, type ShareCodeRecord, type ShareRecord } from '../state/shares'
import { jsonBody } from './body'
import { pageParams } from './pagination'

type C = Context<HubEnv>

/** JupyterHub's bounds of a share code's lifetime: one minute to one year. */
export const MIN_CODE_EXPIRES_SEC = 60
export const MAX_CODE_EXPIRES_SEC = 365 * 86_400

/** The server a share points at, as JupyterHub's SharedServer model (ready: running now). */
function serverModels(d: Deps) {
  const seen = new Map<string, Promise<Record<string, unknown>>>()
  return (owner: string, server: string) => {
    const ref = `${owner}/${server}`
    if (!seen.has(ref)) {
      seen.set(
        ref,
        (async () => {
          const url = serverBaseUrl(owner, server)
          const rec = await d.servers.get(owner, server)
          const full = d.config.subdomainHost
            ? serverUrl(d.config.subdomainHost, owner, url)
            : d.config.publicUrl
              ? `${d.publicUrl}${url}`
              : null
          return {
            name: server,
            user: { name: owner },
            url: d.config.subdomainHost ? full : url,
            full_url: full,
            ready: rec?.state === 'running',
          }
        })(),
      )
    }
    return seen.get(ref)!
  }
}

async function shareModels(d: Deps, shares: readonly ShareRecord[]) {
  const server = serverModels(d)
  return Promise.all(
    shares.map(async (s) => ({
      server: await server(s.owner, s.server),
      scopes: s.scopes,
      user: s.kind === 'user' ? { name: s.name } : null,
      group: s.kind === 'group' ? { name: s.name } : null,
      kind: s.kind,
      created_at: s.created,
    })),
  )
}

async function codeModels(d: Deps, codes: readonly ShareCodeRecord[]) {
  const server = serverModels(d)
  return Promise.all(
    codes.map(async (s) => ({
      server: await server(s.owner, s.server),
      scopes: s.scopes,
      id: s.id,
      created_at: s.created,
      expires_at: s.expiresAt,
      exchange_count: s.exchangeCount,
      last_exchanged_at: s.lastExchangedAt,
    })),
  )
}

/** One page of a list, always in the pagination envelope (JupyterHub answers shares that way). */
async function page<T>(c: C, all: readonly T[], model: (items: readonly T[]) => Promise<unknown[]>) {
  const { offset, limit } = pageParams(c, { alwaysPaged: true })
  const next = offset + limit
  const query = new URL(c.req.url).searchParams
  query.set('offset', String(next))
  query.set('limit', String(limit))
  return c.json({
    items: await model(all.slice(offset, offset + limit)),
    _pagination: {
      offset,
      limit,
      total: all.length,
      next: next < all.length ? { offset: next, limit, url: `${c.var.deps.publicUrl}${c.req.path}?${query}` } : null,
    },
  })
}

const owner = (c: C) => c.req.param('owner')!
const server = (c: C) => c.req.param('server') ?? ''

async function requireServer(d: Deps, o: string, s: string): Promise<void> {
  if (!(await d.shares.serverExists(o, s))) throw new NotFound(`No such server: ${o}/${s}`)
}

/**
 * The scopes a share or code grants, each with the server's filter: `access:servers` alone (its
 * default), written bare or as `access:servers!server=owner/name`.
 */
export function shareScopes(raw: readonly string[] | undefined, o: string, s: string): string[] {
  const filter = `server=${o}/${s}`
  if (!raw?.length) return [`access:servers!${filter}`]
  const out = new Set<string>()
  for (const scope of raw) {
    const problem = scopeProblem(scope)
    if (problem) throw new BadRequest(problem)
    const [base, f] = scope.split('!')
    if (f !== undefined && f !== filter) throw new BadRequest(`!${f} not allowed on sharing ${scope}, only !${filter}`)
    if (base !== 'access:servers') throw new BadRequest(`only access:servers can be shared, not ${scope}`)
    out.add(`${base}!${filter}`)
  }
  return [...out]
}

/** {user} or {group}: exactly one, as a grantee. */
function grantee(body: { user?: string; group?: string }): Grantee {
  if (body.user !== undefined && body.group !== undefined)
    throw new BadRequest('Expected exactly one of `user` or `group`, not both.')
  if (body.user !== undefined && body.user !== '') return { kind: 'user', name: body.user }
  if (body.group !== undefined && body.group !== '') return { kind: 'group', name: body.group }
  throw new BadRequest('Specify exactly one of `user` or `group`')
}

/** The caller must hold every scope it hands on, for that server (JupyterHub's rule). */
export async function mayGrant(c: C, scopes: readonly string[], o: string, s: string): Promise<void> {
  const target = await serverTarget(c, o, s, 'access:servers')
  for (const scope of scopes)
    if (!can(c, scope.split('!')[0], target))
      throw new Forbidden(`Do not have permission to grant share with scope ${scope}`)
}

/** The caller may name the grantee, which exists and is not the server's owner (JupyterHub's checks). */
export async function mayNameGrantee(c: C, to: Grantee, o: string): Promise<void> {
  const d = c.var.deps
  if (to.kind === 'user') {
    if (!can(c, 'read:users:name', await userTarget(c, to.name, 'read:users:name')))
      throw new Forbidden("Need scope 'read:users:name' to share with users by name")
    if (!(await d.users.get(to.name))) throw new BadRequest(`No such user: ${to.name}`)
    if (to.name === o) throw new BadRequest(`${o} owns this server: a server cannot be shared with its owner`)
  } else {
    if (!can(c, 'read:groups:name', { group: to.name }))
      throw new Forbidden("Need scope 'read:groups:name' to share with groups by name")
    if (!(await d.groups.get(to.name))) throw new BadRequest(`No such group: ${to.name}`)
  }
}

const notAllowed = () => new HubError(405, 'Method Not Allowed', 'method_not_allowed')

function sharesOfServers(app: Hono<HubEnv>) {
  app.get('/shares/:owner', async (c) => {
    const d = c.var.deps
    need(c, 'read:shares', await userTarget(c, owner(c), 'read:shares'))
    if (!(await d.users.get(owner(c)))) throw new NotFound(`No such user: ${owner(c)}`)
    return page(c, await d.shares.ofOwner(owner(c)), (s) => shareModels(d, s))
  })
  // Only GET without a server name (as JupyterHub: 405 once the scope check passes).
  for (const method of ['post', 'patch', 'delete'] as const) {
    app[method]('/shares/:owner', async (c) => {
      need(c, 'shares', await userTarget(c, owner(c), 'shares'))
      throw notAllowed()
    })
  }

  for (const path of ['/shares/:owner/', '/shares/:owner/:server']) {
    app.get(path, async (c) => {
      const d = c.var.deps
      need(c, 'read:shares', await serverTarget(c, owner(c), server(c), 'read:shares'))
      await requireServer(d, owner(c), server(c))
      return page(c, await d.shares.ofOwner(owner(c), server(c)), (s) => shareModels(d, s))
    })

    // Grant: {user|group, scopes?}; 200 with the share (new or widened).
    app.post(path, async (c) => {
      const d = c.var.deps
      const [o, s] = [owner(c), server(c)]
      need(c, 'shares', await serverTarget(c, o, s, 'shares'))
      const body = await jsonBody(c, { user: 'string', group: 'string', scopes: 'string[]' })
      const to = grantee(body)
      const scopes = shareScopes(body.scopes, o, s)
      await requireServer(d, o, s)
      await mayGrant(c, scopes, o, s)
      await mayNameGrantee(c, to, o)
      const share = await d.shares.grant(o, s, to, scopes)
      d.log.info('shared server', {
        user: o,
        server: s,
        with: `${to.kind}:${to.name}`,
        scopes,
        by: c.var.identity?.user.name,
      })
      return c.json((await shareModels(d, [share]))[0])
    })

    // Revoke some scopes (all without scopes) of one user or group: the share left, or {}.
    app.patch(path, async (c) => {
      const d = c.var.deps
      const [o, s] = [owner(c), server(c)]
      need(c, 'shares', await serverTarget(c, o, s, 'shares'))
      const body = await jsonBody(c, { user: 'string', group: 'string', scopes: 'string[]' })
      const to = grantee(body)
      const scopes = body.scopes?.length ? shareScopes(body.scopes, o, s) : undefined
      await requireServer(d, o, s)
      const left = await d.shares.revoke(o, s, to, scopes)
      if (left !== undefined)
        d.log.info('revoked shared access', {
          user: o,
          server: s,
          from: `${to.kind}:${to.name}`,
          scopes: scopes ?? 'all',
          by: c.var.identity?.user.name,
        })
      return c.json(left ? (await shareModels(d, [left]))[0] : {})
    })

    app.delete(path, async (c) => {
      const d = c.var.deps
      const [o, s] = [owner(c), server(c)]
      need(c, 'shares', await serverTarget(c, o, s, 'shares'))
      await requireServer(d, o, s)
      const n = await d.shares.revokeServer(o, s)
      d.log.info('revoked all shares of server', { user: o, server: s, shares: n, by: c.var.identity?.user.name })
      return c.body(null, 204)
    })
  }
}

function shareCodes(app: Hono<HubEnv>) {
  app.get('/share-codes/:owner', async (c) => {
    const d = c.var.deps
    need(c, 'read:shares', await userTarget(c, owner(c), 'read:shares'))
    if (!(await d.users.get(owner(c)))) throw new NotFound(`No such user: ${owner(c)}`)
    return page(c, await d.shares.codes(owner(c)), (s) => codeModels(d, s))
  })
  for (const method of ['post', 'delete'] as const) {
    app[method]('/share-codes/:owner', async (c) => {
      need(c, 'shares', await userTarget(c, owner(c), 'shares'))
      throw notAllowed()
    })
  }

  for (const path of ['/share-codes/:owner/', '/share-codes/:owner/:server']) {
    app.get(path, async (c) => {
      const d = c.var.deps
      need(c, 'read:shares', await serverTarget(c, owner(c), server(c), 'read:shares'))
      await requireServer(d, owner(c), server(c))
      return page(c, await d.shares.codes(owner(c), server(c)), (s) => codeModels(d, s))
    })

    // Issue: {scopes?, expires_in?}; 200 with the code, shown this once.
    app.post(path, async (c) => {
      const d = c.var.deps
      const [o, s] = [owner(c), server(c)]
      need(c, 'shares', await serverTarget(c, o, s, 'shares'))
      const body = await jsonBody(c, { scopes: 'string[]', expires_in: 'number' })
      const expiresIn = body.expires_in ?? SHARE_CODE_EXPIRES_SEC
      if (!Number.isInteger(expiresIn) || expiresIn < MIN_CODE_EXPIRES_SEC || expiresIn > MAX_CODE_EXPIRES_SEC) {
        throw new BadRequest(
          `expires_in must be a whole number of seconds from ${MIN_CODE_EXPIRES_SEC} to ${MAX_CODE_EXPIRES_SEC}`,
        )
      }
      const scopes = shareScopes(body.scopes, o, s)
      await requireServer(d, o, s)
      await mayGrant(c, scopes, o, s)
      const { code, record } = await d.shares.issueCode(o, s, scopes, expiresIn)
      d.log.info('issued share code', { user: o, server: s, id: record.id, by: c.var.identity?.user.name })
      const accept = `/hub/accept-share?${new URLSearchParams({ code })}`
      const [model] = await codeModels(d, [record])
      return c.json({
        ...model,
        code,
        accept_url: accept,
        full_accept_url: d.config.publicUrl ? `${d.publicUrl}${accept}` : null,
      })
    })

    // Revoke one code (?code= or ?id=) or, with neither, every code of the server.
    app.delete(path, async (c) => {
      const d = c.var.deps
      const [o, s] = [owner(c), server(c)]
      need(c, 'shares', await serverTarget(c, o, s, 'shares'))
      await requireServer(d, o, s)
      const code = c.req.query('code')
      const id = c.req.query('id')
      const mine = (r: ShareCodeRecord | undefined) => (r && r.owner === o && r.server === s ? r : undefined)
      if (code) {
        const r = mine(await d.shares.findCode(code))
        if (!r) throw new NotFound('No matching code found')
        await d.shares.deleteCode(r)
      } else if (id) {
        const r = /^sc_\d{1,15}$/.test(id) ? mine(await d.shares.getCode(id)) : undefined
        if (!r) throw new NotFound(`No code found matching id=${id}`)
        await d.shares.deleteCode(r)
      } else {
        for (const r of await d.shares.codes(o, s)) await d.shares.deleteCode(r)
      }
      d.log.info('revoked share codes', {
        user: o,
        server: s,
        id: id ?? (code ? 'by code' : 'all'),
        by: c.var.identity?.user.name,
      })
      return c.body(null, 204)
    })
  }
}

function sharedWith(app: Hono<HubEnv>) {
  app.get('/users/:name/shared', async (c) => {
    const d = c.var.deps
    const name = c.req.param('name')
    need(c, 'read:users:shares', await userTarget(c, name, 'read:users:shares'))
    if (!(await d.users.get(name))) throw new NotFound(`No such user: ${name}`)
    return page(c, await d.shares.sharedWith(name, await d.groups.ofUser(name)), (s) => shareModels(d, s))
  })
  app.get('/groups/:name/shared', async (c) => {
    const d = c.var.deps
    const name = c.req.param('name')
    need(c, 'read:groups:shares', { group: name })
    if (!(await d.groups.get(name))) throw new NotFound(`No such group: ${name}`)
    return page(c, await d.shares.sharedWith(undefined, [name]), (s) => shareModels(d, s))
  })

  // One user's or group's own share of a server (not through groups): read it, or leave it.
  for (const kind of ['user', 'group'] as const) {
    const base = kind === 'user' ? '/users/:name/shared/:owner' : '/groups/:name/shared/:owner'
    const scope = kind === 'user' ? 'users:shares' : 'groups:shares'
    const find = async (c: C, scopes: string) => {
      const name = c.req.param('name')!
      need(c, scopes, kind === 'user' ? await userTarget(c, name, scopes) : { group: name })
      const share = await c.var.deps.shares.get(owner(c), server(c), { kind, name })
      if (!share) throw new NotFound(`No such share for ${kind} ${name} on ${owner(c)}/${server(c)}`)
      return share
    }
    for (const path of [`${base}/`, `${base}/:server`]) {
      app.get(path, async (c) => c.json((await shareModels(c.var.deps, [await find(c, `read:${scope}`)]))[0]))
      app.delete(path, async (c) => {
        const s = await find(c, scope)
        await c.var.deps.shares.revoke(s.owner, s.server, { kind, name: s.name })
        c.var.deps.log.info('left shared server', {
          user: s.owner,
          server: s.server,
          from: `${kind}:${s.name}`,
          by: c.var.identity?.user.name,
        })
        return c.body(null, 204)
      })
    }
  }
}

/** Mounted at /hub/api. */
export function shareApi(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()
  sharesOfServers(app)
  shareCodes(app)
  sharedWith(app)
  return app
}
