// The HTML pages, at JupyterHub's URLs: the page-only rules, the root, the form-only addresses, then
// the sub-apps in order: those that need no login, the login check, and those behind it.
import { Hono } from 'hono'
import type { HubEnv } from '../http/env'
import { acceptShareRoutes } from './accept-share'
import { handoff } from './handoff'
import { ErrorPage } from './error-page'
import { type C, loginRedirect, landing, viewer } from './page-kit'
import { refreshUser } from '../sessions/refresh'
import { twoFactorPages } from './two-factor'
import { clearSessionCookie } from '../http/respond'
import { sessionPages } from './session-pages'
import { ltiPages } from './lti-pages'
import { accountPages } from './account-pages'
import { serverPages } from './server-pages'
import { tokenPages } from './token-pages'
import { adminPages } from './admin-pages'
import { homePages } from './home-pages'
import { sharingPages } from './sharing-pages'

export function pageRoutes(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()
  // Pages are for browsers: only the session cookie logs one in, never an API token (a narrow
  // token must not reach what a page can do, such as issuing a full token).
  app.use('*', async (c, next) => {
    if (c.var.identity?.via === 'token') c.set('identity', null)
    await next()
  })

  // /hub/ and /hub are the same page, as in JupyterHub: logged in, your running server or the spawn
  // flow; logged out, the login page (next: back here). Mounted at /hub, the route '/' is /hub only,
  // and a parameter that matches only the empty segment is /hub/.
  const root = async (c: C) => {
    if (!c.var.identity) return loginRedirect(c)
    const name = c.var.identity.user.name
    const rec = await c.var.deps.servers.get(name, '')
    return c.redirect(rec?.state === 'running' ? landing(c, name, '') : '/hub/spawn')
  }
  app.get('/', root)
  app.get('/:trailingSlash{^$}', root)

  // Form targets without a page of their own: a GET (a bookmarked or typed address) is answered 405
  // with the page to go to, as JupyterHub's handlers answer methods they do not implement.
  const POST_ONLY: Array<[string, string]> = [
    ['/stop', '/hub/home'],
    ['/stop/:user/:server?', '/hub/admin'],
    ['/token/:id/revoke', '/hub/token'],
    ['/token/client/:client/revoke', '/hub/token'],
    ['/delete/:user/:server', '/hub/home'],
    ['/admin/approve/:user', '/hub/admin'],
    ['/admin/users', '/hub/admin'],
    ['/admin/two-factor-reset', '/hub/admin'],
    ['/admin/bulk', '/hub/admin'],
    ['/admin/users/:name/:action{edit|delete}', '/hub/admin'],
    ['/admin/users/:name/servers/:action{start|stop}', '/hub/admin'],
    ['/admin/groups/:name/:action{delete|properties}', '/hub/admin/groups'],
    ['/admin/groups/:name/members/:action{add|remove}', '/hub/admin/groups'],
  ]
  for (const [path, page] of POST_ONLY) {
    app.get(path, (c) => {
      c.header('Allow', 'POST')
      return c.html(
        <ErrorPage
          status={405}
          message="This address takes a form submission (POST); it is not a page."
          user={viewer(c)}
          link={page}
        />,
        405,
      )
    })
  }

  app.route('/', sessionPages())
  app.route('/', ltiPages()) // LTI 1.3 launches: the platform's login initiation and form_post (lti-pages.tsx)
  // Everything below needs a login.
  app.use('*', async (c, next) => {
    if (!c.var.identity) return loginRedirect(c)
    // a browser session's user, checked again by the authenticator when its last check is old
    if (c.var.identity.sid && (await refreshUser(c.var.deps, c.var.identity.user.name)) === 'expired') {
      clearSessionCookie(c)
      return loginRedirect(c)
    }
    await next()
  })

  // With per-user hosts: the hand-off that logs the visitor in on a user's host (handoff.ts)
  app.get('/handoff', handoff)

  app.route('/', homePages())
  app.route('/', accountPages())
  app.route('/', twoFactorPages())
  app.route('/', serverPages())
  app.route('/', tokenPages())
  app.route('/', adminPages())
  app.route('/', acceptShareRoutes())
  app.route('/', sharingPages())
  return app
}
