// One user on the admin page (admin-user.tsx) and its forms: edit (rename, admin flag), delete, and
// start or stop any of the user's servers, each through the REST API as the visitor (admin-api.ts).
import { Hono } from 'hono'
import { BadRequest } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { can, serverTarget, userTarget, callerIsAdmin } from '../http/authorize'
import { checkServerName } from '../spawn/names'
import { type C, viewer } from './page-kit'
import { adminForm, backWith, needAdminUi, noticeOf } from './admin-kit'
import { callApi, seg } from './admin-api'
import { AdminUserPage, type ServerMay } from './admin-user'
import type { ServerView } from './admin'

interface UserModel {
  name: string
  admin?: boolean
  groups?: string[]
  created?: string
  last_activity?: string | null
  servers?: Record<string, ServerView>
}

const userPath = (name: string) => `/users/${seg(name)}`
const serverPath = (name: string, server: string) =>
  server ? `${userPath(name)}/servers/${seg(server)}` : `${userPath(name)}/server`
const pagePath = (name: string) => `/hub/admin/users/${encodeURIComponent(name)}`

async function serverMay(c: C, name: string, server: string): Promise<ServerMay> {
  const t = await serverTarget(c, name, server, 'start:servers', 'delete:servers', 'access:servers')
  return {
    start: can(c, 'start:servers', t),
    stop: can(c, 'delete:servers', t),
    access: can(c, 'access:servers', t),
  }
}

export function adminUserPages(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  app.get('/admin/users/:name', async (c) => {
    needAdminUi(c)
    const name = c.req.param('name')
    const d = c.var.deps
    // the API's read: 404 for a user who is not there, or whom the viewer may not read
    const u = await callApi<UserModel>(c, 'GET', `${userPath(name)}?include_stopped_servers=1`)
    const servers: ServerView[] = Object.values(u.servers ?? {}).sort((a, b) => (a.name < b.name ? -1 : 1))
    if (!servers.some((s) => s.name === '')) servers.unshift({ name: '' }) // the default server always exists
    const may: Record<string, ServerMay> = {}
    for (const s of servers) may[s.name] = await serverMay(c, name, s.name)
    const target = await userTarget(c, name, 'admin:users', 'delete:users')
    const self = c.var.identity!.user.name === name
    return c.html(
      <AdminUserPage
        xsrf={c.var.xsrf}
        user={viewer(c)!}
        target={{
          name: u.name,
          admin: u.admin,
          groups: u.groups,
          created: u.created,
          lastActivity: u.last_activity,
          servers,
        }}
        may={{
          edit: can(c, 'admin:users', target),
          delete: can(c, 'delete:users', target) && !self,
          grantAdmin: callerIsAdmin(c),
        }}
        serverMay={may}
        namedServers={d.config.hub.allowNamedServers}
        notice={noticeOf(c)}
      />,
    )
  })

  // {name, admin}: PATCH /users/NAME with what changed (the API refuses what the visitor may not do)
  app.post('/admin/users/:name/edit', async (c) => {
    needAdminUi(c)
    const name = c.req.param('name')
    const f = await adminForm(c)
    const current = await callApi<UserModel>(c, 'GET', userPath(name))
    const change: { name?: string; admin?: boolean } = {}
    const newName = f.one('name').trim()
    if (newName && newName !== name) change.name = newName
    const admin = f.one('admin') === '1'
    if (current.admin !== undefined && admin !== current.admin) change.admin = admin
    if (!Object.keys(change).length) return c.redirect(backWith(pagePath(name), pagePath(name), 'Nothing changed'))
    const model = await callApi<UserModel>(c, 'PATCH', userPath(name), change)
    const said = [
      change.name ? `renamed to ${model.name}` : '',
      change.admin === undefined ? '' : change.admin ? 'now an admin' : 'no longer an admin',
    ].filter(Boolean)
    return c.redirect(backWith(pagePath(model.name), pagePath(model.name), `${name}: ${said.join(', ')}`))
  })

  app.post('/admin/users/:name/delete', async (c) => {
    needAdminUi(c)
    const name = c.req.param('name')
    const f = await adminForm(c)
    if (f.one('confirm') !== name) throw new BadRequest(`tick "Yes, delete ${name}" to delete the user`)
    await callApi(c, 'DELETE', userPath(name))
    return c.redirect(backWith('/hub/admin', '/hub/admin', `${name} was deleted`))
  })

  for (const action of ['start', 'stop'] as const) {
    app.post(`/admin/users/:name/servers/${action}`, async (c) => {
      needAdminUi(c)
      const name = c.req.param('name')
      const f = await adminForm(c)
      const server = checkServerName(f.one('server').trim())
      await callApi(c, action === 'start' ? 'POST' : 'DELETE', serverPath(name, server))
      const which = server ? `${name}'s server ${server}` : `${name}'s server`
      const notice = action === 'start' ? `${which} is starting` : `${which} is stopping`
      return c.redirect(backWith(f.one('back'), pagePath(name), notice))
    })
  }

  return app
}
