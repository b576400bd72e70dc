// /hub/api/user and /hub/api/users[/{name}[/activity]]: JupyterHub's user endpoints, checked by scope.
import type { AuthJson } from '../../../auth/src'
import { Hono, type Context } from 'hono'
import type { HubEnv } from '../http/env'
import { callerIsAdmin, currentUser, need, needSome, principal, userTarget } from '../http/authorize'
import { serviceModel } from './services'
import type { Deps } from '../deps'
import { BadRequest, Conflict, Forbidden, NotFound } from '../../../runtime/src/errors'
import { checkUsername, isAdmin } from '../../../auth/src'
import { deleteUser } from '../users/delete'
import { renameUser } from '../users/rename'
import { latest } from '../state/activity'
import { expand, has, toStrings, union } from '../scopes/scope-set'
import { IDENTIFY_SCOPES } from '../scopes/vocabulary'
import { userModel, userModels, USER_READ_SCOPES } from './user-model'
import { jsonBody } from './body'
import { pageParams, pageResponse } from './pagination'
import { LoginThrottle } from '../state/login-throttle'

type C = Context<HubEnv>
const STATES = ['active', 'ready', 'inactive'] as const
// 'running' (users with an active server first, each part by name) is edgehub's, for the admin page
const SORTS = ['id', 'name', 'last_activity', 'running'] as const

function validName(name: string): string {
  const normal = checkUsername(name)
  if (normal !== name)
    throw new BadRequest(`invalid user name ${JSON.stringify(name)}: use ${JSON.stringify(normal)}`, 'invalid_name')
  return name
}

function flag(c: C, name: string): boolean {
  const v = c.req.query(name)
  return v !== undefined && v !== '0' && v.toLowerCase() !== 'false'
}

/** The user, after the scope check on its name (403), or 404 when there is none (as JupyterHub). */
async function scopedUser(c: C, name: string, scopes: readonly string[]) {
  need(c, scopes, await userTarget(c, name, ...scopes))
  const u = await c.var.deps.users.get(name)
  if (!u) throw new NotFound(`user ${name} not found`)
  return u
}

async function listUsers(c: C) {
  const id = needSome(c, 'list:users')
  const d = c.var.deps
  const { offset, limit } = pageParams(c)
  const state = c.req.query('state') || undefined
  if (state && !(STATES as readonly string[]).includes(state))
    throw new BadRequest(`state must be one of ${STATES.join(', ')}`)
  const rawSort = c.req.query('sort') || 'id'
  const sort = rawSort.replace(/^-/, '')
  const descending = rawSort.startsWith('-')
  if (!(SORTS as readonly string[]).includes(sort))
    throw new BadRequest(`sort must be one of ${SORTS.join(', ')} (with - for descending)`)
  const includeStopped = flag(c, 'include_stopped_servers')
  // JupyterHub's name_filter: names containing it, ignoring case (its SQL ilike, without wildcards)
  const nameFilter = c.req.query('name_filter')?.toLowerCase() || undefined
  if (nameFilter && nameFilter.length > MAX_FILTER)
    throw new BadRequest(`name_filter must be at most ${MAX_FILTER} characters`)
  const everyone = id.scopes.get('list:users') === 'all'

  const models = (names: string[]) => userModels(d, names, { scopes: id.scopes, includeStopped })
  if (everyone && !state && !nameFilter && (sort === 'id' || sort === 'name') && !descending) {
    const [names, total] = await Promise.all([d.users.names(offset, limit), d.users.count()])
    return pageResponse(c, await models(names), { offset, limit, total })
  }
  // Running first, a page among the running: the set of active servers alone.
  if (everyone && !state && !nameFilter && sort === 'running' && !descending) {
    const live = [...(await d.servers.activeUsers())].sort()
    if (offset + limit <= live.length)
      return pageResponse(c, await models(live.slice(offset, offset + limit)), {
        offset,
        limit,
        total: await d.users.count(),
      })
  }
  // The names in order, filtered, then one page of models: no per-user round trip. The names come
  // from this replica's copy (state/users.ts, checked with one GET); state and the running order
  // from the set of active servers; only the activity order reads a field of every listed user
  // (one script call).
  let names: readonly string[]
  if (everyone && !nameFilter && (state === 'active' || state === 'ready'))
    names = [...(await d.servers.activeUsers({ ready: state === 'ready' }))].sort()
  else {
    names = nameFilter ? await d.users.search(nameFilter) : await d.users.allNames()
    if (!everyone) {
      const visible = []
      for (const n of names) if (has(id.scopes, 'list:users', await userTarget(c, n, 'list:users'))) visible.push(n)
      names = visible
    }
    if (state) {
      const live = await d.servers.activeUsers({ ready: state === 'ready' })
      names = names.filter((n) => (state === 'inactive' ? !live.has(n) : live.has(n)))
    }
  }
  if (sort === 'last_activity') {
    const at = await d.users.lastActivities(names)
    const order = names.map((n, i) => ({ n, at: at[i] ?? '' }))
    order.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)) // stable: by name among equal times
    names = order.map((o) => o.n)
  } else if (sort === 'running') {
    const live = await d.servers.activeUsers()
    names = [...names.filter((n) => live.has(n)), ...names.filter((n) => !live.has(n))]
  }
  if (descending) names = [...names].reverse()
  return pageResponse(c, await models(names.slice(offset, offset + limit)), { offset, limit, total: names.length })
}

/** The longest name_filter taken (longer than any name could be). */
const MAX_FILTER = 255

/**
 * A name in auth.admins is an admin at every login: only an admin may make a user of that name
 * (a holder of admin:users could otherwise make an admin), and no user is renamed to it.
 */
function refuseConfiguredAdmin(c: C, name: string, how: 'create' | 'rename') {
  if (!isAdmin(c.var.deps.config.auth, name)) return
  if (how === 'rename')
    throw new Forbidden(
      `${name} is listed in auth.admins, so a user renamed to it would log in as an admin: rename refused`,
    )
  if (!callerIsAdmin(c)) throw new Forbidden(`only admins can create ${name}: it is listed in auth.admins`)
}

async function createOne(d: Deps, c: C, name: string, admin: boolean) {
  refuseConfiguredAdmin(c, name, 'create')
  const u = await d.users.create(name, { admin })
  d.log.info('created user', { user: name, admin, by: principal(c)?.name })
  return u
}

export function userApi(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  // Who am I: any valid token may ask, whatever its scopes; the model shows what they allow plus
  // the caller's own name and groups.
  app.get('/user', async (c) => {
    const d = c.var.deps
    const svc = c.var.service
    if (svc) {
      const model = serviceModel(d, svc.name)
      return c.json({ ...model, token_id: svc.token.id, session_id: null, scopes: toStrings(svc.scopes) })
    }
    const id = currentUser(c)
    const identify = expand(IDENTIFY_SCOPES, { kind: 'user', name: id.user.name })
    const model = await userModel(d, id.user, { scopes: union(id.scopes, identify), groups: id.groups })
    // token_id (JupyterHub 5): the id of the token asking, to revoke it by; null for a browser session
    return c.json({
      ...model,
      token_id: id.token?.id ?? null,
      session_id: id.token ? id.token.sessionId : (id.sid ?? null),
      scopes: toStrings(id.scopes),
    })
  })

  app.get('/users', listUsers)

  // Several users at once: {"usernames": [...], "admin": bool}; existing ones are skipped.
  app.post('/users', async (c) => {
    need(c, 'admin:users')
    const body = await jsonBody(c, { usernames: 'string[]', admin: 'boolean' }, { required: true })
    const names = body.usernames ?? []
    if (!names.length) throw new BadRequest('usernames must name at least one user')
    if (body.admin && !callerIsAdmin(c)) throw new Forbidden('only admins can grant admin permissions')
    names.forEach(validName)
    const d = c.var.deps
    const created = []
    for (const name of new Set(names)) {
      if (await d.users.get(name)) continue
      created.push(await createOne(d, c, name, body.admin === true))
    }
    if (!created.length) throw new Conflict(`all ${names.length} users already exist`)
    return c.json(await Promise.all(created.map((u) => userModel(d, u, { scopes: principal(c)!.scopes }))), 201)
  })

  app.get('/users/:name', async (c) => {
    const name = c.req.param('name')
    const u = await scopedUser(c, name, USER_READ_SCOPES)
    return c.json(
      await userModel(c.var.deps, u, {
        scopes: principal(c)!.scopes,
        includeStopped: flag(c, 'include_stopped_servers'),
      }),
    )
  })

  app.post('/users/:name', async (c) => {
    need(c, 'admin:users')
    const name = validName(c.req.param('name'))
    const body = await jsonBody(c, { admin: 'boolean' })
    if (body.admin && !callerIsAdmin(c)) throw new Forbidden('only admins can grant admin permissions')
    const d = c.var.deps
    if (await d.users.get(name)) throw new Conflict(`user ${name} already exists`)
    return c.json(
      await userModel(d, await createOne(d, c, name, body.admin === true), { scopes: principal(c)!.scopes }),
      201,
    )
  })

  // {"name": new name, "admin": bool}
  app.patch('/users/:name', async (c) => {
    const name = c.req.param('name')
    await scopedUser(c, name, ['admin:users'])
    const me = principal(c)!
    const body = await jsonBody(c, { name: 'string', admin: 'boolean', auth_state: 'object' }, { required: true })
    const d = c.var.deps
    // JupyterHub stores it for its authenticator, for holders of admin:auth_state
    if (body.auth_state !== undefined) {
      if (!d.config.auth.enableAuthState)
        throw new BadRequest('auth_state cannot be set: auth.enableAuthState is false on this hub')
      await scopedUser(c, name, ['admin:auth_state'])
    }
    if (!callerIsAdmin(c)) {
      if ((await d.users.require(name)).admin) throw new Forbidden('only admins can modify other admins')
      if (body.admin) throw new Forbidden('only admins can grant admin permissions')
    }
    if (body.name !== undefined && body.name !== name) {
      validName(body.name)
      refuseConfiguredAdmin(c, body.name, 'rename')
      if (await d.users.get(body.name))
        throw new BadRequest(`user ${body.name} already exists, user names must be unique`)
    }
    if (body.admin === false && me.kind === 'user' && name === me.name)
      throw new BadRequest('you cannot remove your own admin rights')
    if (body.admin !== undefined) await d.users.setAdmin(name, body.admin)
    if (body.auth_state !== undefined) await d.authStates.put(name, body.auth_state as { [k: string]: AuthJson })
    let current = name
    if (body.name !== undefined && body.name !== name) {
      await renameUser(d, name, body.name)
      current = body.name
    }
    d.log.info('modified user', {
      user: name,
      rename: body.name,
      admin: body.admin,
      authState: body.auth_state !== undefined,
      by: me.name,
    })
    return c.json(await userModel(d, await d.users.require(current), { scopes: principal(c)!.scopes }))
  })

  app.delete('/users/:name', async (c) => {
    const name = c.req.param('name')
    await scopedUser(c, name, ['delete:users'])
    const me = principal(c)!
    if (me.kind === 'user' && name === me.name) throw new BadRequest('you cannot delete yourself')
    const d = c.var.deps
    const pending = (await d.servers.list(name)).find((s) => s.state === 'pending' || s.state === 'stopping')
    if (pending)
      throw new BadRequest(
        `${name}'s server ${pending.name || '(default)'} is pending ${pending.state === 'pending' ? 'spawn' : 'stop'}; try again when it is done`,
      )
    await deleteUser(d, name)
    return c.body(null, 204)
  })

  // An admin's unlock of a name locked by failed logins (edgehub's own; see docs/rest-api.md).
  app.delete('/users/:name/login-failures', async (c) => {
    const name = c.req.param('name')
    const u = await scopedUser(c, name, ['admin:users'])
    if (u.admin && !callerIsAdmin(c)) throw new Forbidden('only admins can unlock an admin')
    const d = c.var.deps
    const unlocked = await new LoginThrottle(d.redis, d.keys, d.config.auth.throttle).unlock(name)
    d.log.info('login failures forgotten', { user: name, by: principal(c)!.name, unlocked })
    return c.body(null, 204)
  })

  // Servers report activity here (JUPYTERHUB_ACTIVITY_URL): {"last_activity": ts, "servers": {name: {"last_activity": ts}}}
  app.post('/users/:name/activity', async (c) => {
    const name = c.req.param('name')
    await scopedUser(c, name, ['users:activity'])
    const body = await jsonBody(c, { last_activity: 'string', servers: 'object' }, { required: true })
    if (body.last_activity === undefined && body.servers === undefined)
      throw new BadRequest('body must contain at least one of `last_activity` or `servers`')
    const d = c.var.deps
    const now = Date.now()
    const when = (t: unknown): number => {
      const ms = typeof t === 'string' ? Date.parse(t) : NaN
      if (Number.isNaN(ms)) throw new BadRequest(`not a valid timestamp: ${JSON.stringify(t)}`)
      if (ms > now + 59 * 60_000) throw new BadRequest(`timestamp ${t} is too far in the future`)
      return Math.min(ms, now) // a clock slightly ahead must not keep a server "active" for ever
    }
    const recorded = new Set((await d.servers.list(name)).map((s) => s.name))
    // the default server is known whether or not it ever started (JupyterHub keeps a row for it)
    const known = new Set(['', ...recorded])
    const servers = Object.entries(body.servers ?? {}).map(([server, v]) => {
      const ts = (v as { last_activity?: unknown } | null)?.last_activity
      if (typeof v !== 'object' || v === null || ts === undefined)
        throw new BadRequest('servers must be an object of the form {server_name: {last_activity: timestamp}}')
      if (!known.has(server)) throw new BadRequest(`no such server ${JSON.stringify(server)} for user ${name}`)
      return { user: name, server, at: new Date(when(ts)) }
    })
    const userTime = body.last_activity === undefined ? undefined : when(body.last_activity)
    // a server with no record (a default server never started) has no activity to keep: its time
    // raises the user's last_activity below, and a server that starts later starts as active
    await d.activity.record(servers.filter((s) => recorded.has(s.server)))
    const newest = latest(userTime, ...servers.map((s) => s.at.getTime()))
    if (newest) await d.users.touch(name, new Date(newest)) // raise-only
    return c.body(null, 200)
  })

  return app
}
