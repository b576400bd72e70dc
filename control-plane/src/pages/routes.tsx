// The HTML pages, at JupyterHub's URLs.
import { Hono, type Context } from 'hono'
import { BadRequest, Forbidden, HubError, NotFound, SpawnThrottled } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { checkXsrf } from '../http/xsrf'
import { clearSessionCookie, safeNext, setSessionCookie } from '../http/respond'
import { checkUsername, isAdmin, isAllowed, type Identity } from '../../../auth/src'
import { progressUrl, routeKey, serverBaseUrl, spawnPendingUrl } from '../spawn/orchestrator'
import { checkServerName } from '../spawn/names'
import { LoginPage, SignupPage, ChangePasswordPage } from './login'
import { displayedServices, HomePage, NotRunningPage, SpawnPendingPage } from './home'
import { AdminPage } from './admin'
import { acceptShareRoutes } from './accept-share'
import { handoff } from './handoff'
import { sharedOriginNotice } from './shared-origin'
import { serverUrl } from '../http/subdomain'
import { landingUrl, spawnerNotes } from '../../../spawners/src'
import { sentence } from './layout'
import { ErrorPage } from './error-page'
import { TokenPage } from './token'
import { LoginThrottle } from '../state/login-throttle'
import { logoutFromOwnPages, stopServersOnLogout } from './logout'
import { clientAddress } from '../http/client-address'
import { tokenLifetime } from '../state/token-lifetime'
import { can, serverTarget } from '../http/authorize'
import { scopeProblem, scopesNotHeld } from '../scopes/scope-set'

type C = Context<HubEnv>

const LOGIN_FAILED = 'Invalid user name or password.'
const LOGIN_LOCKED = 'Too many failed logins: logging in under this name is locked. An administrator can unlock it.'
/** Codes of start refusals a page shows as they are (orchestrator.start). */
const REFUSALS = new Set(['limit', 'named_servers_disabled', 'active_server_limit'])

/**
 * The path as the client sent it, percent-encoding kept (c.req.path is decoded): what a Location
 * header or a next= parameter must carry, or a name like café.ipynb reaches the browser as raw bytes
 * and an encoded line break breaks the header.
 */
const rawPath = (c: C) => new URL(c.req.url).pathname

function loginRedirect(c: C) {
  const next = rawPath(c) + (c.req.url.includes('?') ? c.req.url.slice(c.req.url.indexOf('?')) : '')
  return c.redirect(`/hub/login?next=${encodeURIComponent(next)}`)
}

async function form(c: C): Promise<Record<string, string>> {
  const body = await c.req.parseBody().catch(() => {
    throw new BadRequest('expected a form body')
  })
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v
  checkXsrf(c, out._xsrf)
  return out
}

/**
 * JupyterHub's spawn query options (its SpawnHandler with the default options_from_query): every
 * query argument of a spawn URL but `next` becomes a user option holding the list of its values,
 * `?image=x&tag=a&tag=b` giving {"image": ["x"], "tag": ["a", "b"]}. None: null, so the options
 * recorded for the server are used again, as JupyterHub's spawn without query arguments does.
 */
function spawnQueryOptions(c: C): Record<string, string[]> | null {
  const out: Record<string, string[]> = {}
  for (const [k, values] of Object.entries(c.req.queries())) if (k !== 'next') out[k] = values
  return Object.keys(out).length ? out : null
}

/** A server's path on its owner's host with subdomainHost (http/subdomain.ts), else the path. */
const onHost = (c: C, owner: string, path: string) => serverUrl(c.var.deps.config.subdomainHost, owner, path)

/** Where the hub sends someone into a server: spawner.defaultUrl under its URL (JupyterHub's Spawner.default_url), on its host. */
const landing = (c: C, owner: string, server: string) =>
  onHost(c, owner, landingUrl(serverBaseUrl(owner, server), owner, c.var.deps.config.spawner.defaultUrl))

const viewer = (c: C) => (c.var.identity ? { name: c.var.identity.user.name, admin: can(c, 'admin-ui') } : null)

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
    ['/admin/approve/:user', '/hub/admin'],
    ['/admin/users', '/hub/admin'],
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

  app.get('/login', (c) => {
    const next = safeNext(c.req.query('next'))
    if (c.var.identity) return c.redirect(next)
    const d = c.var.deps
    return c.html(
      <LoginPage
        xsrf={c.var.xsrf}
        next={next}
        signup={!!d.passwords?.signup}
        authNotice={d.authenticator.loginNotice}
        notice={c.req.query('logged_out') ? 'You have logged out.' : undefined}
      />,
    )
  })

  app.post('/login', async (c) => {
    const d = c.var.deps
    const f = await form(c)
    const next = safeNext(c.req.query('next') ?? f.next)
    const page = (status: 400 | 403 | 429, error: string) =>
      c.html(
        <LoginPage
          xsrf={c.var.xsrf}
          next={next}
          error={error}
          username={f.username}
          signup={!!d.passwords?.signup}
          authNotice={d.authenticator.loginNotice}
        />,
        status,
      )
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
      identity = await d.authenticator.authenticate({ username: name, password: f.password ?? '' })
    } catch (err) {
      if (err instanceof HubError && err.expose) return page(403, sentence(err.message))
      throw err
    }
    const policy = d.config.auth
    if (!identity || !isAllowed(policy, identity.name)) {
      await throttle.failed(name, address)
      d.log.info('login refused', { user: name })
      return page(403, LOGIN_FAILED)
    }
    await throttle.succeeded(name)
    const admin = isAdmin(policy, identity.name) || !!identity.admin
    const user = await d.users.get(identity.name)
    if (!user) await d.users.create(identity.name, { admin })
    else if (admin && !user.admin) await d.users.setAdmin(identity.name, true)
    const { cookie } = await d.sessions.create(identity.name)
    setSessionCookie(c, cookie, d.config.sessions.maxAgeSec)
    d.log.info('user logged in', { user: identity.name })
    return c.redirect(next)
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
    return c.redirect('/hub/login?logged_out=1')
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
      n.checkPasswordRules(f.password ?? '')
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

  // Everything below needs a login.
  app.use('*', async (c, next) => {
    if (!c.var.identity) return loginRedirect(c)
    await next()
  })

  // With per-user hosts: the hand-off that logs the visitor in on a user's host (handoff.ts)
  app.get('/handoff', handoff)

  app.get('/home', async (c) => {
    const d = c.var.deps
    const name = c.var.identity!.user.name
    const servers = await d.servers.list(name)
    const named = d.config.hub.allowNamedServers
      ? { servers: servers.filter((s) => s.name), limit: d.config.hub.namedServerLimitPerUser }
      : undefined
    return c.html(
      <HomePage
        xsrf={c.var.xsrf}
        user={viewer(c)!}
        server={servers.find((s) => !s.name)}
        baseUrl={serverBaseUrl(name, '')}
        passwords={!!d.passwords}
        named={named}
        services={displayedServices(d.config.services)}
      />,
    )
  })

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

  /** The server a page acts on, when the visitor's scopes allow `scope` on it (their own always do). */
  const ownerAndServer = async (c: C, scope: 'start:servers' | 'delete:servers' | 'read:servers' = 'read:servers') => {
    const owner = c.req.param('user') ?? c.var.identity!.user.name
    const server = checkServerName(c.req.param('server') ?? '')
    if (!can(c, scope, await serverTarget(c, owner, server, scope)))
      throw new Forbidden(`you may not start or stop ${owner}'s server`)
    return { owner, server }
  }

  /** The spawn-pending page of a server, keeping the request's next (a local path) for when it is ready. */
  const pendingWithNext = (c: C, owner: string, server: string) => {
    const next = safeNext(c.req.query('next'), '')
    return spawnPendingUrl(owner, server) + (next ? `?next=${encodeURIComponent(next)}` : '')
  }

  const spawn = async (c: C) => {
    const { owner, server } = await ownerAndServer(c, 'start:servers')
    const d = c.var.deps
    const rec = await d.servers.get(owner, server)
    const pending = pendingWithNext(c, owner, server)
    if (rec?.state === 'running') return c.redirect(safeNext(c.req.query('next'), landing(c, owner, server)))
    if (rec?.state === 'pending') return c.redirect(pending)
    if (!(await d.users.get(owner))) throw new NotFound(`user ${owner} not found`)
    // Start in the background; the pending page follows progress. Too many spawns in progress is
    // JupyterHub's 429 page, so it is waited for (it is decided before the spawn begins).
    try {
      await d.orchestrator.start(owner, server, spawnQueryOptions(c), { waitSec: 0 })
    } catch (err) {
      // refused by a rule the person should read (the limit of named servers, named servers off);
      // a start racing another one (already pending or running) just follows that one
      if (err instanceof SpawnThrottled || (err instanceof HubError && REFUSALS.has(err.code))) throw err
      d.log.info('spawn request not started', { user: owner, err: (err as Error).message })
    }
    return c.redirect(pending)
  }
  app.get('/spawn', spawn) // your own default server, as JupyterHub does when there is no options form
  // Anyone else's (or a named) server needs the POST from the not-running page, so a link cannot start it.
  app.get('/spawn/:user/:server?', async (c) => {
    const { owner, server } = await ownerAndServer(c, 'start:servers')
    if (owner === c.var.identity!.user.name && !server) return spawn(c)
    const rec = await c.var.deps.servers.get(owner, server)
    if (rec?.state === 'running') return c.redirect(safeNext(c.req.query('next'), landing(c, owner, server)))
    if (rec?.state === 'pending') return c.redirect(pendingWithNext(c, owner, server))
    // this server's own start page (not /hub/user/…/SERVER/, which the default server answers when running)
    return c.html(
      <NotRunningPage
        xsrf={c.var.xsrf}
        user={viewer(c)!}
        owner={owner}
        server={server}
        rec={rec}
        path={safeNext(c.req.query('next'), serverBaseUrl(owner, server))}
      />,
    )
  })
  app.post('/spawn', async (c) => (await form(c), spawn(c)))
  app.post('/spawn/:user/:server?', async (c) => (await form(c), spawn(c)))

  const stop = async (c: C) => {
    await form(c)
    const { owner, server } = await ownerAndServer(c, 'delete:servers')
    await c.var.deps.orchestrator.stop(owner, server)
    return c.redirect(c.var.identity!.user.name === owner ? '/hub/home' : '/hub/admin')
  }
  app.post('/stop', stop)
  app.post('/stop/:user/:server?', stop)

  app.get('/spawn-pending/:user/:server?', async (c) => {
    const { owner, server } = await ownerAndServer(c)
    const rec = await c.var.deps.servers.get(owner, server)
    const next = safeNext(c.req.query('next'), '')
    if (rec?.state === 'running') return c.redirect(next || landing(c, owner, server))
    if (!rec || (rec.state === 'stopped' && !rec.failed)) return c.redirect('/hub/home')
    return c.html(
      <SpawnPendingPage
        user={viewer(c)!}
        owner={owner}
        server={server}
        progressUrl={progressUrl(owner, server)}
        serverUrl={landing(c, owner, server)}
        next={next}
      />,
    )
  })

  // JupyterHub's /hub/user-redirect/PATH: a link that works for whoever follows it (nbgitpuller and
  // course material use it) goes to /user/NAME/PATH of the logged-in user, query included.
  app.get('/user-redirect/*', (c) => {
    const rest = rawPath(c).slice('/hub/user-redirect/'.length)
    const query = c.req.url.includes('?') ? c.req.url.slice(c.req.url.indexOf('?')) : ''
    const name = c.var.identity!.user.name
    return c.redirect(onHost(c, name, `${serverBaseUrl(name, '')}${rest.replace(/^\/+/, '')}${query}`))
  })

  // The proxy sends /user/NAME/... here when it has no route for it.
  app.get('/user/:user/*', async (c) => {
    const d = c.var.deps
    const owner = decodeURIComponent(c.req.param('user'))
    const id = c.var.identity!
    const rest = c.req.path.slice(`/hub/user/${c.req.param('user')}/`.length)
    const servers = await d.servers.list(owner)
    const named = servers.find((s) => s.name && rest.startsWith(`${encodeURIComponent(s.name)}/`))
    const rec = named ?? (await d.servers.get(owner, ''))
    const server = rec?.name ?? ''
    const allowed =
      owner === id.user.name || can(c, 'access:servers', await serverTarget(c, owner, server, 'access:servers'))
    if (!allowed) throw new Forbidden(`you are logged in as ${id.user.name} and may not use ${owner}'s server`)
    const path =
      rawPath(c).slice('/hub'.length) + (c.req.url.includes('?') ? c.req.url.slice(c.req.url.indexOf('?')) : '')
    if (rec?.state === 'running' && c.req.query('redirects') === undefined) {
      // Running, but this proxy had no route yet (it was just written): send the browser back once.
      const route = await d.tables.get('routes', routeKey(owner, server))
      const url = new URL(c.req.url)
      url.searchParams.set('redirects', '1')
      if (route) return c.redirect(`${rawPath(c).slice('/hub'.length)}${url.search}`)
    }
    if (rec?.state === 'pending')
      return c.redirect(`${spawnPendingUrl(owner, server)}?next=${encodeURIComponent(path)}`)
    return c.html(
      <NotRunningPage xsrf={c.var.xsrf} user={viewer(c)!} owner={owner} server={server} rec={rec} path={path} />,
      424,
    )
  })

  const tokenPage = async (c: C, extra: { created?: string; error?: string } = {}, status: 200 | 400 | 403 = 200) => {
    const name = c.var.identity!.user.name
    const tokens = (await c.var.deps.tokens.list(name)).filter((t) => t.kind === 'api')
    return c.html(
      <TokenPage
        xsrf={c.var.xsrf}
        user={viewer(c)!}
        tokens={tokens}
        maxSec={c.var.deps.config.hub.tokenExpiresInMaxSec}
        {...extra}
      />,
      status,
    )
  }
  app.get('/token', (c) => tokenPage(c))
  app.post('/token', async (c) => {
    const f = await form(c)
    const d = c.var.deps
    const id = c.var.identity!
    if (!can(c, 'tokens', { user: id.user.name })) throw new Forbidden('your roles do not let you create tokens')
    const scopes = (f.scopes ?? '').split(/\s+/).filter(Boolean)
    const lifetime = tokenLifetime(f.expires_in ? Number(f.expires_in) : undefined, d.config.hub.tokenExpiresInMaxSec)
    if (lifetime.problem) return tokenPage(c, { error: `Choose how long the token lasts (${lifetime.problem}).` }, 400)
    const bad = scopes.map(scopeProblem).find((p) => p)
    if (bad) return tokenPage(c, { error: sentence(bad) }, 400)
    if (scopes.length) {
      const beyond = await scopesNotHeld(scopes, { kind: 'user', name: id.user.name }, id.scopes, (u) =>
        d.groups.ofUser(u),
      )
      if (beyond.length) return tokenPage(c, { error: `You do not hold ${beyond.join(', ')}.` }, 403)
    }
    const { token } = await d.tokens.issue(id.user.name, {
      note: f.note || 'Requested via the token page',
      expiresInSec: lifetime.expiresInSec,
      scopes: scopes.length ? scopes : undefined,
    })
    return tokenPage(c, { created: token })
  })
  app.post('/token/:id/revoke', async (c) => {
    await form(c)
    const d = c.var.deps
    const o = await d.tokens.ownerOf(c.req.param('id')) // by owner only: an undecodable record can be revoked too
    if (!o || o.service || o.user !== c.var.identity!.user.name) throw new NotFound('no such token')
    await d.tokens.revoke(c.req.param('id'))
    return c.redirect('/hub/token')
  })

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
    d.passwords.checkPasswordRules(f.password ?? '')
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

  app.route('/', acceptShareRoutes())
  return app
}
