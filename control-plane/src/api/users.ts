// /hub/api/user and /hub/api/users/:name (the subset the core needs; the full API follows JupyterHub's).
import { Hono, type Context } from 'hono'
import type { HubEnv } from '../http/env'
import { currentUser, requireSelfOrAdmin } from '../http/identity'
import type { Deps } from '../deps'
import type { UserRecord } from '../state/users'
import { progressUrl, serverBaseUrl } from '../spawn/orchestrator'
import { BadRequest, NotFound } from '../errors'
import { latest } from '../state/activity'

export async function userModel(d: Deps, u: UserRecord) {
  const servers: Record<string, unknown> = {}
  const records = await d.servers.list(u.name)
  const seen = await d.activity.ofUser(u.name, records.map((s) => s.name))
  for (const s of records) {
    if (s.state === 'stopped') continue
    servers[s.name] = {
      name: s.name,
      ready: s.state === 'running',
      pending: s.state === 'pending' ? 'spawn' : s.state === 'stopping' ? 'stop' : null,
      stopped: false,
      url: serverBaseUrl(u.name, s.name),
      progress_url: progressUrl(u.name, s.name),
      started: s.started,
      last_activity: latest(s.lastActivity, seen.get(s.name), s.started), // a start is activity, as in JupyterHub
      state: {},
      user_options: {},
    }
  }
  const def = servers[''] as { ready: boolean; pending: string | null } | undefined
  return {
    kind: 'user',
    name: u.name,
    admin: u.admin,
    groups: [],
    server: def?.ready ? serverBaseUrl(u.name, '') : null,
    pending: def?.pending ?? null,
    created: u.created,
    last_activity: latest(u.lastActivity, ...seen.values()),
    servers,
  }
}

export function userApi(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()
  app.get('/user', async (c) => {
    const id = currentUser(c)
    return c.json({ ...(await userModel(c.var.deps, id.user)), session_id: id.sid ?? null })
  })
  app.get('/users/:name', async (c: Context<HubEnv>) => {
    const name = c.req.param('name')!
    requireSelfOrAdmin(c, name)
    const u = await c.var.deps.users.get(name)
    if (!u) throw new NotFound(`user ${name} not found`)
    return c.json(await userModel(c.var.deps, u))
  })
  // Servers report activity here (JUPYTERHUB_ACTIVITY_URL).
  app.post('/users/:name/activity', async (c) => {
    const name = c.req.param('name')
    requireSelfOrAdmin(c, name)
    const body = (await c.req.json().catch(() => null)) as { last_activity?: string; servers?: Record<string, { last_activity?: string }> } | null
    if (!body || typeof body !== 'object') throw new BadRequest('expected a JSON body')
    const d = c.var.deps
    const servers = Object.entries(body.servers ?? {})
    const times = [body.last_activity, ...servers.map(([, s]) => s?.last_activity)].filter((t): t is string => !!t)
    if (times.some((t) => typeof t !== 'string' || Number.isNaN(Date.parse(t)))) throw new BadRequest('last_activity must be an ISO 8601 timestamp')
    const known = new Set((await d.servers.list(name)).map((s) => s.name))
    // as JupyterHub: activity of servers the user does not have is ignored
    await d.activity.record(
      // a clock ahead of ours must not keep a server "active" forever: no time later than now
      servers
        .filter(([server, s]) => known.has(server) && s?.last_activity)
        .map(([server, s]) => ({ user: name, server, at: new Date(Math.min(Date.parse(s.last_activity!), Date.now())) })),
    )
    const newest = latest(...times.map((t) => Math.min(Date.parse(t), Date.now())))
    await d.users.require(name)
    if (newest) await d.users.touch(name, new Date(newest)) // raise-only
    return c.body(null, 204)
  })
  return app
}
