// /hub/api/proxy (the routing table; sync), /hub/api/shutdown, and the deprecated
// /hub/api/authorizations endpoints, as JupyterHub answers them.
import { Hono } from 'hono'
import type { HubEnv } from '../http/env'
import { need, principal } from '../http/authorize'
import { BadRequest, Forbidden, NotFound } from '../../../runtime/src/errors'
import { expand, union } from '../scopes/scope-set'
import { IDENTIFY_SCOPES } from '../scopes/vocabulary'
import { tokenScopes, userScopes } from '../scopes/resolve'
import { jsonBody } from './body'
import { pageParams, pageResponse } from './pagination'
import { userModel } from './user-model'
import { serviceModel } from './services'

interface RouteEntry {
  kind?: string
  target?: string
  user?: string
  server?: string
  name?: string
}

export function hubAdminApi(opts: { shutdown?: (servers: boolean) => void } = {}): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  // configurable-http-proxy's routing table shape: {routespec: {routespec, target, data}}
  app.get('/proxy', async (c) => {
    need(c, 'proxy')
    const routes = await c.var.deps.tables.getAll<RouteEntry>('routes')
    const specs = Object.keys(routes).sort()
    const paged = c.req.query('offset') !== undefined || c.req.query('limit') !== undefined
    const { offset, limit } = pageParams(c)
    const chosen = paged ? specs.slice(offset, offset + limit) : specs
    const out: Record<string, unknown> = {}
    for (const spec of chosen) {
      const r = routes[spec]
      const data = r.kind === 'service' ? { service: r.name } : { user: r.user, server_name: r.server ?? '' }
      out[spec] = { routespec: spec, target: `http://${r.target}`, data }
    }
    return paged ? pageResponse(c, out, { offset, limit, total: specs.length }) : c.json(out)
  })

  // Re-checks every server and writes the routes again (proxies follow the change stream).
  app.post('/proxy', async (c) => {
    need(c, 'proxy')
    await c.var.deps.orchestrator.checkAll()
    return c.body(null, 200)
  })

  // JupyterHub re-points itself at a new proxy here; edgehub's proxies find their state in Redis, so
  // there is nothing to change: the body is checked and the call succeeds.
  app.patch('/proxy', async (c) => {
    need(c, 'proxy')
    await jsonBody(
      c,
      { api_url: 'string', auth_token: 'string', ip: 'string', port: 'string', protocol: 'string' },
      { required: true },
    )
    return c.body(null, 200)
  })

  app.post('/shutdown', async (c) => {
    need(c, 'shutdown')
    const body = await jsonBody(c, { proxy: 'boolean', servers: 'boolean' })
    if (!opts.shutdown) throw new BadRequest('this hub cannot be shut down through the API')
    const servers = body.servers ?? false
    c.var.deps.log.warn('shutdown requested through the API', { by: principal(c)?.name, servers })
    setTimeout(() => opts.shutdown!(servers), 100).unref()
    return c.json({ message: 'Shutting down Hub' }, 202)
  })

  app.post('/authorizations/token', (_c) => {
    throw new NotFound(
      'Deprecated endpoint /hub/api/authorizations/token is removed in JupyterHub 2.0. Use /hub/api/users/:user/tokens instead.',
    )
  })

  // Deprecated: who owns a token (the caller must use a token itself).
  app.get('/authorizations/token/:token', async (c) => {
    if (!principal(c) || (c.var.identity && c.var.identity.via !== 'token'))
      throw new Forbidden('token authentication required')
    const d = c.var.deps
    const rec = await d.tokens.verify(c.req.param('token'))
    if (!rec) throw new NotFound('no such token')
    if (rec.service) return c.json(serviceModel(d, rec.service))
    const user = await d.users.get(rec.user)
    if (!user) throw new NotFound('no such token')
    const groups = await d.groups.ofUser(user.name)
    const scopes = await tokenScopes(d, rec, user, await userScopes(d, user, groups))
    const identify = expand(IDENTIFY_SCOPES, { kind: 'user', name: user.name })
    return c.json(await userModel(d, user, { scopes: union(scopes, identify), groups }))
  })

  return app
}
