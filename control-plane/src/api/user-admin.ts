// Managing users through the REST API as JupyterHub does: GET /users (paginated, state filter),
// POST and DELETE /users/{name}, GET /info. Admin only until roles and scopes arrive.
import { Hono, type Context } from 'hono'
import type { HubEnv } from '../http/env'
import { requireAdmin } from '../http/identity'
import type { Deps } from '../deps'
import { BadRequest, NotFound } from '../errors'
import { checkUsername } from '../../../auth/src/policy'
import { deleteUser } from '../users/delete'
import { userModel } from './users'
import { VERSION } from '../version'

export const PAGINATION_TYPE = 'application/jupyterhub-pagination+json'
const DEFAULT_LIMIT = 50
const MAX_LIMIT = 200
const STATES = ['active', 'ready', 'inactive'] as const
type State = (typeof STATES)[number]

function intParam(c: Context<HubEnv>, name: string, fallback: number, min: number): number {
  const raw = c.req.query(name)
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new BadRequest(`${name} must be an integer >= ${min}`)
  return Number(raw)
}

function matches(model: Awaited<ReturnType<typeof userModel>>, state: State | undefined): boolean {
  const servers = Object.values(model.servers) as Array<{ ready: boolean }>
  if (state === 'active') return servers.length > 0
  if (state === 'ready') return servers.some((s) => s.ready)
  if (state === 'inactive') return servers.length === 0
  return true
}

/** One page of users, filtered by server state; the filter needs every user's servers, so it reads them all. */
async function page(d: Deps, offset: number, limit: number, state: State | undefined) {
  if (!state) {
    const [names, total] = await Promise.all([d.users.names(offset, limit), d.users.count()])
    return { models: await models(d, names), total }
  }
  const all = (await models(d, await d.users.names())).filter((m) => matches(m, state))
  return { models: all.slice(offset, offset + limit), total: all.length }
}

async function models(d: Deps, names: string[]) {
  const out = []
  for (const name of names) {
    const u = await d.users.get(name)
    if (u) out.push(await userModel(d, u))
  }
  return out
}

export function userAdminApi(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  app.get('/info', async (c) => {
    requireAdmin(c)
    const { config } = c.var.deps
    return c.json({
      version: VERSION,
      authenticator: { class: config.auth.kind, version: VERSION },
      spawner: { class: config.spawner.kind, version: VERSION },
    })
  })

  app.get('/users', async (c) => {
    requireAdmin(c)
    const offset = intParam(c, 'offset', 0, 0)
    const limit = Math.min(intParam(c, 'limit', DEFAULT_LIMIT, 1), MAX_LIMIT)
    const state = c.req.query('state') || undefined
    if (state && !(STATES as readonly string[]).includes(state)) throw new BadRequest(`state must be one of ${STATES.join(', ')}`)
    const { models: items, total } = await page(c.var.deps, offset, limit, state as State | undefined)
    if (!(c.req.header('accept') ?? '').includes(PAGINATION_TYPE)) return c.json(items)
    const nextOffset = offset + limit
    const query = (o: number) => new URLSearchParams({ offset: String(o), limit: String(limit), ...(state ? { state } : {}) })
    return c.json({
      items,
      _pagination: {
        offset,
        limit,
        total,
        next: nextOffset < total ? { offset: nextOffset, limit, url: `${c.req.path}?${query(nextOffset)}` } : null,
      },
    })
  })

  app.post('/users/:name', async (c) => {
    requireAdmin(c)
    const name = c.req.param('name')
    if (checkUsername(name) !== name) throw new BadRequest(`invalid user name: use ${JSON.stringify(checkUsername(name))}`, 'invalid_name')
    const raw = (await c.req.text()).trim()
    let body: unknown = {}
    try {
      body = raw ? JSON.parse(raw) : {}
    } catch {
      throw new BadRequest('the body is not valid JSON')
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('expected a JSON object')
    const unknown = Object.keys(body).filter((k) => k !== 'admin')
    if (unknown.length) throw new BadRequest(`unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`)
    const { admin } = body as { admin?: unknown }
    if (admin !== undefined && typeof admin !== 'boolean') throw new BadRequest('admin must be true or false')
    const d = c.var.deps
    const u = await d.users.create(name, { admin: admin === true })
    d.log.info('created user', { user: name, admin: u.admin, by: c.var.identity?.user.name })
    return c.json(await userModel(d, u), 201)
  })

  app.delete('/users/:name', async (c) => {
    const me = requireAdmin(c)
    const name = c.req.param('name')
    if (name === me.user.name) throw new BadRequest('you cannot delete yourself')
    const d = c.var.deps
    if (!(await d.users.get(name))) throw new NotFound(`user ${name} not found`)
    await deleteUser(d, name)
    return c.body(null, 204)
  })

  return app
}
