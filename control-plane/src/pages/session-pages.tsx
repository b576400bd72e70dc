// Logging in and out, and signing up: the pages that need no login.
import { Hono } from 'hono'
import { Forbidden, HubError, NotFound } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { clearSessionCookie, safeNext } from '../http/respond'
import { checkUsername, isAdmin, isAllowed, type Identity } from '../../../auth/src'
import { admit, type Admission } from '../sessions/admit'
import { loginFromRequest, redirectLoginRoutes, startSession } from './login-flow'
import { publicUrl } from '../deps'
import { LoginPage, SignupPage } from './login'
import { sentence } from './layout'
import { LoginThrottle } from '../state/login-throttle'
import { logoutFromOwnPages, stopServersOnLogout } from './logout'
import { clientAddress } from '../http/client-address'
import { LOGIN_FAILED, LOGIN_LOCKED, form, type C } from './page-kit'
import { audit } from '../audit/audit'

/** May an authenticator make an account or set a first password for this name (LoginInput.mayClaim)? */
async function mayClaim(d: C['var']['deps'], name: string): Promise<boolean> {
  const groups = await d.groups.ofUser(name)
  return isAllowed(d.config.auth, name, groups) && !isAdmin(d.config.auth, name, groups)
}

export function sessionPages(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  redirectLoginRoutes(app)

  app.get('/login', async (c) => {
    const next = safeNext(c.req.query('next'))
    if (c.var.identity) return c.redirect(next)
    const d = c.var.deps
    const fromRequest = await loginFromRequest(c, next)
    if (fromRequest instanceof Response) return fromRequest
    const redirect = d.authenticator.redirect
    const loggedOut = !!c.req.query('logged_out')
    // straight to the identity provider (JupyterHub's auto_login), but not right after a logout
    if (redirect?.auto && !d.authenticator.passwordForm && !loggedOut)
      return c.redirect(`/hub/oauth_login?next=${encodeURIComponent(next)}`)
    return c.html(
      <LoginPage
        xsrf={c.var.xsrf}
        next={next}
        signup={!!d.passwords?.signup}
        authNotice={d.authenticator.loginNotice}
        passwordForm={d.authenticator.passwordForm}
        redirectLabel={redirect?.label}
        otpField={!!d.authenticator.secondFactor}
        notice={loggedOut ? 'You have logged out.' : undefined}
      />,
      // the login page goes with the authenticator's challenge (Negotiate): a browser with a ticket answers it
      fromRequest === 'challenge' ? 401 : 200,
    )
  })

  app.post('/login', async (c) => {
    const d = c.var.deps
    const f = await form(c)
    if (!d.authenticator.passwordForm) throw new NotFound('this hub does not log in with a password')
    const next = safeNext(c.req.query('next') ?? f.next)
    const page = (status: 400 | 403 | 429, error: string) => {
      const reason = ({ 400: 'invalid-username', 403: 'bad-credentials', 429: 'throttled' } as const)[status]
      audit(c, 'login.failure', {
        target: status === 400 ? null : (f.username ?? null),
        outcome: 'denied',
        reason,
        status,
      })
      return c.html(
        <LoginPage
          xsrf={c.var.xsrf}
          next={next}
          error={error}
          username={f.username}
          signup={!!d.passwords?.signup}
          authNotice={d.authenticator.loginNotice}
          passwordForm={d.authenticator.passwordForm}
          redirectLabel={d.authenticator.redirect?.label}
          otpField={!!d.authenticator.secondFactor}
        />,
        status,
      )
    }
    let name: string
    try {
      name = checkUsername(f.username ?? '')
    } catch (err) {
      return page(400, sentence((err as Error).message))
    }
    // throttled by name and address before any password is checked, the same whether the user exists or not
    const throttle = new LoginThrottle(d.redis, d.keys, d.config.auth.throttle)
    const address = clientAddress(c)
    const verdict = await throttle.check(name, address)
    if (!verdict.ok) {
      d.log.debug('login throttled', { user: name, address, locked: verdict.locked })
      c.header('Retry-After', String(verdict.retryAfterSec))
      return page(
        429,
        verdict.locked ? LOGIN_LOCKED : `Too many failed logins. Try again in ${verdict.retryAfterSec} seconds.`,
      )
    }
    let identity: Identity | null
    try {
      identity = await d.authenticator.authenticate({
        username: name,
        password: f.password ?? '',
        otp: f.otp,
        mayClaim: await mayClaim(d, name),
      })
    } catch (err) {
      if (!(err instanceof HubError && err.expose)) throw err
      // counted as a failure, so what the message tells (a weak first password) cannot be probed freely
      await throttle.failed(name, address)
      return page(403, sentence(err.message))
    }
    const admitted: Admission = identity
      ? await admit(d, identity)
      : { ok: false, why: 'wrong password or unknown user' }
    if (!admitted.ok) {
      await throttle.failed(name, address)
      d.log.info('login refused', { user: name, why: admitted.why })
      return page(403, LOGIN_FAILED)
    }
    await throttle.succeeded(name)
    return startSession(c, admitted.name, next)
  })

  app.get('/logout', async (c) => {
    const id = c.var.identity
    if (id?.sid && c.var.deps.config.hub.shutdownOnLogout) {
      if (logoutFromOwnPages(c)) await stopServersOnLogout(c.var.deps, id.user.name)
      else c.var.deps.log.info('a logout from another site: the servers are left running', { user: id.user.name })
    }
    if (id?.sid) {
      await c.var.deps.sessions.revoke(id.sid)
      // OAuth tokens handed out within this login end with it, as in JupyterHub
      for (const t of await c.var.deps.tokens.list(id.user.name))
        if (t.sessionId === id.sid) await c.var.deps.tokens.revoke(t.id)
    }
    clearSessionCookie(c)
    if (id) audit(c, 'logout', { target: id.user.name })
    const afterLogout = '/hub/login?logged_out=1'
    // then the identity provider's own logout (end-session), when the authenticator has one
    const d = c.var.deps
    const atProvider =
      id &&
      d.authenticator.logoutUrl?.(
        await d.authStates.get(id.user.name),
        `${publicUrl(d.config)}${afterLogout}`,
        await d.authStates.via(id.user.name),
      )
    return c.redirect(atProvider || afterLogout)
  })

  app.get('/signup', (c) => {
    const n = c.var.deps.passwords
    if (!n?.signup) throw new NotFound('sign-up is not enabled')
    return c.html(<SignupPage xsrf={c.var.xsrf} minLength={c.var.deps.config.auth.native.minPasswordLength} />)
  })

  app.post('/signup', async (c) => {
    const d = c.var.deps
    const n = d.passwords
    if (!n?.signup) throw new NotFound('sign-up is not enabled')
    const f = await form(c)
    const minLength = d.config.auth.native.minPasswordLength
    try {
      const name = checkUsername(f.username ?? '')
      n.checkPasswordRules(f.password ?? '', name)
      if (!isAllowed(d.config.auth, name)) throw new Forbidden('this user name may not sign up')
      await d.users.create(name, { approved: false, passwordHash: await n.hash(f.password) })
      d.log.info('user signed up', { user: name })
      return c.html(<SignupPage xsrf={c.var.xsrf} minLength={minLength} done />)
    } catch (err) {
      if (!(err instanceof HubError) || !err.expose) throw err
      return c.html(
        <SignupPage xsrf={c.var.xsrf} minLength={minLength} error={err.message} username={f.username} />,
        err.status as 400,
      )
    }
  })
  return app
}
