// The admin page: the users table (one page of the REST API's listing), approvals, new accounts,
// the two-factor reset and starting or stopping a selection of servers. Each action goes through
// the REST API's handlers as the visitor (admin-api.ts); the user, group and hub pages are in
// admin-user-pages.tsx, admin-group-pages.tsx and admin-hub.tsx.
import { Hono } from 'hono'
import { BadRequest, Forbidden, HubError } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { checkUsername, isAdmin } from '../../../auth/src'
import { AdminPage, PER_PAGE, SORT_LABELS, type ListQuery, type ServerView, type UserRow } from './admin'
import { sharedOriginNotice } from './shared-origin'
import { spawnerNotes } from '../../../spawners/src'
import { can, need, userTarget } from '../http/authorize'
import { type C, form, viewer } from './page-kit'
import { adminForm, backWith, needAdminUi, noticeOf } from './admin-kit'
import { callApi, seg } from './admin-api'
import { adminUserPages } from './admin-user-pages'
import { adminGroupPages } from './admin-group-pages'
import { adminHubPage } from './admin-hub'
import { audit } from '../audit/audit'

/** Users a selection may hold (the largest page). */
const MAX_SELECTION = 200
/** Servers a selection starts or stops at once. */
const BULK_WIDTH = 8

interface UserModel {
  name: string
  admin?: boolean
  groups?: string[]
  last_activity?: string | null
  servers?: Record<string, ServerView>
}

function listQuery(c: C): ListQuery {
  const sort = c.req.query('sort') ?? 'name'
  const perPage = Number(c.req.query('per_page') ?? 50)
  const page = Number(c.req.query('page') ?? 1)
  const q = (c.req.query('q') ?? '').trim()
  if (!(sort in SORT_LABELS)) throw new BadRequest(`sort must be one of ${Object.keys(SORT_LABELS).join(', ')}`)
  if (!(PER_PAGE as readonly number[]).includes(perPage))
    throw new BadRequest(`per_page must be one of ${PER_PAGE.join(', ')}`)
  if (!Number.isInteger(page) || page < 1 || page > 1e9) throw new BadRequest('page must be a whole number from 1')
  if (q.length > 255) throw new BadRequest('the name filter must be at most 255 characters')
  return {
    q,
    sort: sort as ListQuery['sort'],
    order: c.req.query('order') === 'desc' ? 'desc' : 'asc',
    active: c.req.query('active') === '1',
    page,
    perPage,
  }
}

/** What the viewer may do to a user and their default server, by the scopes the API checks. */
async function mayFor(c: C, name: string) {
  const target = await userTarget(c, name, 'admin:users', 'start:servers', 'delete:servers', 'access:servers')
  const server = { ...target, server: `${name}/` }
  return {
    edit: can(c, 'admin:users', target),
    start: can(c, 'start:servers', server),
    stop: can(c, 'delete:servers', server),
    access: can(c, 'access:servers', server),
  }
}

/** Starts or stops one user's default server through the API; a sentence when refused. */
async function startOrStop(c: C, action: 'start' | 'stop', user: string): Promise<string | undefined> {
  try {
    await callApi(c, action === 'start' ? 'POST' : 'DELETE', `/users/${seg(user)}/server`)
    return undefined
  } catch (err) {
    if (err instanceof HubError && err.expose) return err.message
    throw err
  }
}

export function adminPages(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  app.get('/admin', async (c) => {
    needAdminUi(c)
    const d = c.var.deps
    const q = listQuery(c)
    const params = new URLSearchParams({
      offset: String((q.page - 1) * q.perPage),
      limit: String(q.perPage),
      include_stopped_servers: '1',
      sort: `${q.order === 'desc' ? '-' : ''}${q.sort}`,
    })
    if (q.q) params.set('name_filter', q.q)
    if (q.active) params.set('state', 'active')
    const listing = await callApi<{ items: UserModel[]; _pagination: { total: number } }>(c, 'GET', `/users?${params}`)
    const names = listing.items.map((u) => u.name)
    const records = await d.users.getMany(names)
    const rows: UserRow[] = await Promise.all(
      listing.items.map(async (u, i) => {
        const servers = u.servers ?? {}
        return {
          name: u.name,
          admin: u.admin,
          approved: records[i]?.approved ?? true,
          lastActivity: u.last_activity,
          servers,
          named: Object.keys(servers).filter((s) => s !== '').length,
          may: await mayFor(c, u.name),
        }
      }),
    )
    return c.html(
      <AdminPage
        xsrf={c.var.xsrf}
        user={viewer(c)!}
        rows={rows}
        total={listing._pagination.total}
        query={q}
        mayAdd={can(c, 'admin:users')}
        passwords={!!d.passwords}
        mayStartOrStop={rows.some((r) => r.may.start || r.may.stop)}
        twoFactor={!!d.authenticator.secondFactor}
        notice={noticeOf(c)}
        originNotice={sharedOriginNotice(d.config)}
        isolationNotice={spawnerNotes(d.config.spawner, d.config.dataDir).isolation}
      />,
    )
  })

  app.post('/admin/approve/:user', async (c) => {
    needAdminUi(c)
    if (!can(c, 'admin:users', { user: c.req.param('user') })) throw new Forbidden('only admins approve accounts')
    await form(c)
    const name = c.req.param('user')
    await c.var.deps.users.approve(name)
    c.var.deps.log.info('user approved', { user: name, by: c.var.identity!.user.name })
    return c.redirect(`/hub/admin?notice=${encodeURIComponent(`${name} was approved`)}`)
  })

  // a user who lost their authenticator app: their second factor off, so the password alone logs in
  app.post('/admin/two-factor-reset', async (c) => {
    needAdminUi(c)
    const d = c.var.deps
    const f = await form(c)
    const name = checkUsername(f.username ?? '')
    if (!can(c, 'admin:users', { user: name })) throw new Forbidden('only admins reset second factors')
    const factor = d.authenticator.secondFactor
    if (!factor) throw new BadRequest('this hub offers no second factor')
    const target = await d.users.get(name)
    if (!target) throw new BadRequest(`user ${name} not found`)
    if (target.admin && !c.var.identity!.user.admin) throw new Forbidden("only admins reset an admin's second factor")
    await factor.reset(name)
    d.log.info('second factor reset', { user: name, by: c.var.identity!.user.name })
    return c.redirect(`/hub/admin?notice=${encodeURIComponent(`${name}'s two-factor authentication is off`)}`)
  })

  // A new user: with a password when the hub keeps them (its rules checked), else through the API
  // (POST /users/NAME, whose checks apply: admin:users, and only admins make admins).
  app.post('/admin/users', async (c) => {
    needAdminUi(c)
    if (!can(c, 'admin:users')) throw new Forbidden('only admins add users')
    const d = c.var.deps
    const f = await form(c)
    const name = checkUsername(f.username ?? '')
    if (f.admin === '1' && !c.var.identity!.user.admin) throw new Forbidden('only admins can grant admin permissions')
    if (!d.passwords) {
      await callApi(c, 'POST', `/users/${seg(name)}`, f.admin === '1' ? { admin: true } : {})
      return c.redirect(`/hub/admin?notice=${encodeURIComponent(`${name} was added`)}`)
    }
    // a name in auth.admins is an admin at login: only an admin may add it or set its first password
    if (isAdmin(d.config.auth, name) && !c.var.identity!.user.admin)
      throw new Forbidden(`only admins can add ${name}: it is listed in auth.admins`)
    d.passwords.checkPasswordRules(f.password ?? '', name)
    const passwordHash = await d.passwords.hash(f.password)
    const existing = await d.users.get(name)
    if (existing) {
      // a first password is a way in as that user: admin:users on them, and only an admin for an admin
      need(c, 'admin:users', await userTarget(c, name, 'admin:users'))
      if (existing.admin && !c.var.identity!.user.admin)
        throw new Forbidden(`only admins can set the first password of ${name}, an admin`)
    }
    // made at the hub's start from auth.admins / auth.allowed, still without a password: this sets it
    if (existing && (await d.users.setFirstPasswordHash(name, passwordHash))) {
      if (f.admin === '1' && !existing.admin) await d.users.setAdmin(name, true)
      audit(c, 'user.modify', { target: name, changes: ['password', ...(f.admin === '1' ? ['admin'] : [])] })
      return c.redirect(`/hub/admin?notice=${encodeURIComponent(`${name} can now log in with that password`)}`)
    }
    await d.users.create(name, { admin: f.admin === '1', passwordHash })
    audit(c, 'user.create', { target: name, admin: f.admin === '1', status: 302 })
    return c.redirect(`/hub/admin?notice=${encodeURIComponent(`${name} was added`)}`)
  })

  // Start or stop the default servers of the selected users, one API call each. The page's script
  // posts one user at a time and asks for JSON, to show progress; a plain form posts them all.
  app.post('/admin/bulk', async (c) => {
    needAdminUi(c)
    const f = await adminForm(c)
    const action = f.one('action')
    if (action !== 'start' && action !== 'stop') throw new BadRequest('action must be start or stop')
    const users = [...new Set(f.all('users'))]
    if (!users.length) throw new BadRequest('select at least one user')
    if (users.length > MAX_SELECTION) throw new BadRequest(`select at most ${MAX_SELECTION} users at once`)
    const failed: string[] = []
    // a few at a time: each start answers once the server is ready or the hub stops waiting for it
    for (let i = 0; i < users.length; i += BULK_WIDTH) {
      const chunk = users.slice(i, i + BULK_WIDTH)
      const problems = await Promise.all(chunk.map((user) => startOrStop(c, action, user)))
      problems.forEach((problem, k) => problem && failed.push(`${chunk[k]}: ${problem}`))
    }
    c.var.deps.log.info(`admin page: ${action} selected servers`, {
      users: users.length,
      failed: failed.length,
      by: c.var.identity!.user.name,
    })
    if ((c.req.header('accept') ?? '').includes('application/json'))
      return c.json({ ok: failed.length === 0, message: failed.join('; ') })
    const verb = action === 'start' ? 'Started' : 'Stopped'
    const notice = `${verb} ${users.length - failed.length} of ${users.length} servers${failed.length ? `; refused: ${failed.join('; ')}` : ''}`
    return c.redirect(backWith(f.one('back'), '/hub/admin', notice))
  })

  app.route('/', adminUserPages())
  app.route('/', adminGroupPages())
  app.route('/', adminHubPage())
  return app
}
