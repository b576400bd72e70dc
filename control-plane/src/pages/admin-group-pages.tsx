// Groups on the admin page (admin-groups.tsx): list, create, delete, members and properties, each
// through the REST API's group endpoints as the visitor (admin-api.ts).
import { Hono } from 'hono'
import { BadRequest } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { can } from '../http/authorize'
import { viewer } from './page-kit'
import { adminForm, backWith, needAdminUi, noticeOf } from './admin-kit'
import { callApi, seg } from './admin-api'
import { AdminGroupPage, AdminGroupsPage, type GroupView } from './admin-groups'

const GROUPS_PER_PAGE = 50
/** Names one add-members form may carry. */
const MAX_MEMBERS = 200

const groupPath = (name: string) => `/groups/${seg(name)}`
const pagePath = (name: string) => `/hub/admin/groups/${encodeURIComponent(name)}`

export function adminGroupPages(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  app.get('/admin/groups', async (c) => {
    needAdminUi(c)
    const page = Number(c.req.query('page') ?? 1)
    if (!Number.isInteger(page) || page < 1 || page > 1e9) throw new BadRequest('page must be a whole number from 1')
    const params = new URLSearchParams({ offset: String((page - 1) * GROUPS_PER_PAGE), limit: String(GROUPS_PER_PAGE) })
    const listing = await callApi<{ items: GroupView[]; _pagination: { total: number } }>(c, 'GET', `/groups?${params}`)
    return c.html(
      <AdminGroupsPage
        xsrf={c.var.xsrf}
        user={viewer(c)!}
        groups={listing.items}
        total={listing._pagination.total}
        page={page}
        perPage={GROUPS_PER_PAGE}
        mayCreate={can(c, 'admin:groups')}
        notice={noticeOf(c)}
      />,
    )
  })

  app.post('/admin/groups', async (c) => {
    needAdminUi(c)
    const f = await adminForm(c)
    const name = f.one('name').trim()
    if (!name) throw new BadRequest('the group needs a name')
    await callApi(c, 'POST', groupPath(name), {})
    return c.redirect(backWith(pagePath(name), pagePath(name), `Group ${name} was created`))
  })

  app.get('/admin/groups/:name', async (c) => {
    needAdminUi(c)
    const name = c.req.param('name')
    const group = await callApi<GroupView>(c, 'GET', groupPath(name))
    return c.html(
      <AdminGroupPage
        xsrf={c.var.xsrf}
        user={viewer(c)!}
        group={group}
        may={{ members: can(c, 'groups', { group: name }), delete: can(c, 'delete:groups', { group: name }) }}
        notice={noticeOf(c)}
      />,
    )
  })

  app.post('/admin/groups/:name/members/:change{add|remove}', async (c) => {
    needAdminUi(c)
    const name = c.req.param('name')
    const adding = c.req.param('change') === 'add'
    const f = await adminForm(c)
    const users = [...new Set(f.all(adding ? 'users' : 'user').flatMap((v) => v.split(/[\s,]+/)))].filter(Boolean)
    if (!users.length) throw new BadRequest('name at least one user')
    if (users.length > MAX_MEMBERS) throw new BadRequest(`name at most ${MAX_MEMBERS} users at once`)
    await callApi(c, adding ? 'POST' : 'DELETE', `${groupPath(name)}/users`, { users })
    const notice = `${users.join(', ')} ${adding ? 'added to' : 'removed from'} ${name}`
    return c.redirect(backWith(pagePath(name), pagePath(name), notice))
  })

  app.post('/admin/groups/:name/properties', async (c) => {
    needAdminUi(c)
    const name = c.req.param('name')
    const f = await adminForm(c)
    await callApi(c, 'PUT', `${groupPath(name)}/properties`, f.one('properties') || '{}')
    return c.redirect(backWith(pagePath(name), pagePath(name), `Properties of ${name} saved`))
  })

  app.post('/admin/groups/:name/delete', async (c) => {
    needAdminUi(c)
    const name = c.req.param('name')
    const f = await adminForm(c)
    if (f.one('confirm') !== name) throw new BadRequest(`tick "Yes, delete ${name}" to delete the group`)
    await callApi(c, 'DELETE', groupPath(name))
    return c.redirect(backWith('/hub/admin/groups', '/hub/admin/groups', `Group ${name} was deleted`))
  })

  return app
}
