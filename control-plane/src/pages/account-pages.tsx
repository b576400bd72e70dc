// The change-password page. (The home page is home-pages.tsx.)
import { Hono } from 'hono'
import { HubError, NotFound } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { ChangePasswordPage } from './login'
import { form, viewer } from './page-kit'

export function accountPages(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  app.get('/change-password', (c) => {
    if (!c.var.deps.passwords) throw new NotFound('passwords are not managed by this hub')
    return c.html(<ChangePasswordPage xsrf={c.var.xsrf} user={viewer(c)!} />)
  })

  app.post('/change-password', async (c) => {
    const n = c.var.deps.passwords
    if (!n) throw new NotFound('passwords are not managed by this hub')
    const f = await form(c)
    try {
      await n.changePassword!(c.var.identity!.user.name, f.old_password ?? '', f.new_password ?? '')
      // Everyone else logged in with the old password is logged out.
      await c.var.deps.sessions.revokeAll(c.var.identity!.user.name, { except: c.var.identity!.sid })
    } catch (err) {
      if (!(err instanceof HubError) || !err.expose) throw err
      return c.html(<ChangePasswordPage xsrf={c.var.xsrf} user={viewer(c)!} error={err.message} />, 400)
    }
    return c.html(<ChangePasswordPage xsrf={c.var.xsrf} user={viewer(c)!} done />)
  })
  return app
}
