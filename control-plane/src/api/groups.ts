// /hub/api/groups[/{name}[/users|/properties]]: JupyterHub's group endpoints, checked by scope.
import { Hono, type Context } from 'hono'
import type { HubEnv } from '../http/env'
import { need, needSome, principal } from '../http/authorize'
import type { Deps } from '../deps'
import { BadRequest, Conflict, NotFound } from '../../../runtime/src/errors'
import type { GroupRecord } from '../state/groups'
import { has, type ScopeSet } from '../scopes/scope-set'
import { jsonBody } from './body'
import { publishAccess } from '../scopes/edge'
import { pageParams, pageResponse } from './pagination'

type C = Context<HubEnv>

const ACCESS: Record<string, readonly string[]> = {
  'read:groups': ['kind', 'name', 'properties', 'users'],
  'read:groups:name': ['kind', 'name'],
  'read:roles:groups': ['kind', 'name', 'roles'],
}
const GROUP_READ_SCOPES = Object.keys(ACCESS)

export function groupModel(d: Deps, g: GroupRecord, scopes?: ScopeSet): Record<string, unknown> | null {
  const full: Record<string, unknown> = {
    kind: 'group',
    name: g.name,
    properties: g.properties,
    users: g.users,
    roles: d.roles.ofGroup(g.name),
  }
  const allowed = new Set<string>()
  for (const [scope, fields] of Object.entries(ACCESS))
    if (!scopes || has(scopes, scope, { group: g.name })) fields.forEach((f) => allowed.add(f))
  if (!allowed.size) return null
  return Object.fromEntries(Object.entries(full).filter(([k]) => allowed.has(k)))
}

/** The group, after the scope check on its name (403), or 404 when there is none. */
async function scopedGroup(c: C, scopes: readonly string[]): Promise<GroupRecord> {
  const name = c.req.param('name')!
  need(c, scopes, { group: name })
  const g = await c.var.deps.groups.get(name)
  if (!g) throw new NotFound(`group ${name} not found`)
  return g
}

async function existingUsers(d: Deps, names: readonly string[]): Promise<string[]> {
  const missing = []
  for (const n of names) if (!(await d.users.get(n))) missing.push(n)
  if (missing.length) throw new BadRequest(`no such user${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`)
  return [...new Set(names)]
}

/** Membership changed: the proxy's view of those users follows. */
async function republish(d: Deps, users: readonly string[]) {
  for (const u of users) await publishAccess(d, u)
}

const show = async (c: C, name: string) =>
  c.json(groupModel(c.var.deps, await c.var.deps.groups.require(name), principal(c)!.scopes))

export function groupApi(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  app.get('/', async (c) => {
    const id = needSome(c, 'list:groups')
    const d = c.var.deps
    const { offset, limit } = pageParams(c)
    let names: string[]
    let total: number
    if (id.scopes.get('list:groups') === 'all') {
      ;[names, total] = await Promise.all([d.groups.names(offset, limit), d.groups.count()])
    } else {
      const visible = (await d.groups.names()).filter((n) => has(id.scopes, 'list:groups', { group: n }))
      total = visible.length
      names = visible.slice(offset, offset + limit)
    }
    const groups = await Promise.all(names.map((n) => d.groups.get(n)))
    const items = groups
      .filter((g): g is GroupRecord => !!g)
      .map((g) => groupModel(d, g, id.scopes))
      .filter((m) => m)
    return pageResponse(c, items, { offset, limit, total })
  })

  // Several at once: {"groups": ["a", "b"], "users": [...]}; 409 when one exists (nothing created).
  app.post('/', async (c) => {
    need(c, 'admin:groups')
    const d = c.var.deps
    const body = await jsonBody(c, { groups: 'string[]', users: 'string[]' }, { required: true })
    const names = [...new Set(body.groups ?? [])]
    if (!names.length) throw new BadRequest('groups must name at least one group')
    for (const n of names) if (await d.groups.get(n)) throw new Conflict(`group ${n} already exists`)
    const users = await existingUsers(d, body.users ?? [])
    for (const n of names) await d.groups.create(n, users)
    await republish(d, users)
    const created = await Promise.all(names.map((n) => d.groups.require(n)))
    return c.json(
      created.map((g) => groupModel(d, g)),
      201,
    )
  })

  app.get('/:name', async (c) =>
    c.json(groupModel(c.var.deps, await scopedGroup(c, GROUP_READ_SCOPES), principal(c)!.scopes)),
  )

  app.post('/:name', async (c) => {
    need(c, 'admin:groups')
    const name = c.req.param('name')
    const d = c.var.deps
    const body = await jsonBody(c, { users: 'string[]', properties: 'object' })
    if (await d.groups.get(name)) throw new Conflict(`group ${name} already exists`)
    const users = await existingUsers(d, body.users ?? [])
    await d.groups.create(name, users, body.properties ?? {})
    await republish(d, users)
    return c.json(groupModel(d, await d.groups.require(name)), 201)
  })

  app.delete('/:name', async (c) => {
    const g = await scopedGroup(c, ['delete:groups'])
    await c.var.deps.groups.remove(g.name)
    await c.var.deps.shares.forgetGroup(g.name) // a new group of that name starts without them
    await republish(c.var.deps, g.users)
    return c.body(null, 204)
  })

  app.post('/:name/users', async (c) => {
    const g = await scopedGroup(c, ['groups'])
    const d = c.var.deps
    const body = await jsonBody(c, { users: 'string[]' }, { required: true })
    const users = await existingUsers(d, body.users ?? [])
    await d.groups.addUsers(g.name, users)
    await republish(d, users)
    return show(c, g.name)
  })

  app.delete('/:name/users', async (c) => {
    const g = await scopedGroup(c, ['groups'])
    const body = await jsonBody(c, { users: 'string[]' }, { required: true })
    await c.var.deps.groups.removeUsers(g.name, body.users ?? [])
    await republish(c.var.deps, body.users ?? [])
    return show(c, g.name)
  })

  app.put('/:name/properties', async (c) => {
    const g = await scopedGroup(c, ['groups'])
    const raw = (await c.req.text()).trim()
    let props: unknown
    try {
      props = JSON.parse(raw)
    } catch {
      throw new BadRequest('the body is not valid JSON')
    }
    if (typeof props !== 'object' || props === null || Array.isArray(props))
      throw new BadRequest('properties must be a JSON object')
    await c.var.deps.groups.setProperties(g.name, props as Record<string, unknown>)
    return show(c, g.name)
  })

  return app
}
