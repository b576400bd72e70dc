// The admin page: users, their servers, approvals and new accounts.
import { Hono } from 'hono'
import { BadRequest, Forbidden } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { checkUsername, isAdmin } from '../../../auth/src'
import { AdminPage } from './admin'
import { sharedOriginNotice } from './shared-origin'
import { spawnerNotes } from '../../../spawners/src'
import { can } from '../http/authorize'
import { form, viewer } from './page-kit'

export function adminPages(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  app.get('/admin', async (c) => {
    if (!can(c, 'admin-ui')) throw new Forbidden('the admin page is for admins')
    const d = c.var.deps
    const names = await d.users.names()
    const users = await Promise.all(
      names.map(async (n) => ({ ...(await d.users.get(n))!, server: await d.servers.get(n, '') })),
    )
    return c.html(
      <AdminPage
        xsrf={c.var.xsrf}
        user={viewer(c)!}
        users={users.filter((u) => u.name)}
        passwords={!!d.passwords}
        twoFactor={!!d.authenticator.secondFactor}
        notice={c.req.query('notice')}
        originNotice={sharedOriginNotice(d.config)}
        isolationNotice={spawnerNotes(d.config.spawner, d.config.dataDir).isolation}
      />,
    )
  })

  app.post('/admin/approve/:user', async (c) => {
    if (!can(c, 'admin:users', { user: c.req.param('user') })) throw new Forbidden('only admins approve accounts')
    await form(c)
    const name = c.req.param('user')
    await c.var.deps.users.approve(name)
    c.var.deps.log.info('user approved', { user: name, by: c.var.identity!.user.name })
    return c.redirect(`/hub/admin?notice=${encodeURIComponent(`${name} was approved`)}`)
  })

  // a user who lost their authenticator app: their second factor off, so the password alone logs in
  app.post('/admin/two-factor-reset', async (c) => {
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

  app.post('/admin/users', async (c) => {
    if (!can(c, 'admin:users')) throw new Forbidden('only admins add users')
    if (
      c.req.method === 'POST' &&
      !c.var.identity!.user.admin &&
      ((await c.req.parseBody().catch(() => ({}))) as Record<string, unknown>).admin === '1'
    ) {
      throw new Forbidden('only admins can grant admin permissions')
    }
    const d = c.var.deps
    const f = await form(c)
    const name = checkUsername(f.username ?? '')
    // a name in auth.admins is an admin at login: only an admin may add it or set its first password
    if (isAdmin(d.config.auth, name) && !c.var.identity!.user.admin)
      throw new Forbidden(`only admins can add ${name}: it is listed in auth.admins`)
    if (!d.passwords) throw new BadRequest('users are managed by the authenticator')
    d.passwords.checkPasswordRules(f.password ?? '', name)
    const passwordHash = await d.passwords.hash(f.password)
    const existing = await d.users.get(name)
    // made at the hub's start from auth.admins / auth.allowed, still without a password: this sets it
    if (existing && (await d.users.setFirstPasswordHash(name, passwordHash))) {
      if (f.admin === '1' && !existing.admin) await d.users.setAdmin(name, true)
      return c.redirect(`/hub/admin?notice=${encodeURIComponent(`${name} can now log in with that password`)}`)
    }
    await d.users.create(name, { admin: f.admin === '1', passwordHash })
    return c.redirect(`/hub/admin?notice=${encodeURIComponent(`${name} was added`)}`)
  })
  return app
}
