// buildApp(deps): the whole control plane as a Hono app. Nothing runs at import time.
import { randomBytes } from 'node:crypto'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { Deps } from './deps'
import { BadRequest, HubError, SpawnThrottled, Unavailable } from '../../runtime/src/errors'
import { ScopeError } from './scopes/scope-set'
import type { Leadership } from './jobs/leader'
import type { HubEnv } from './http/env'
import { identify } from './http/identity'
import { redisGate } from './http/redis-gate'
import { apiXsrf, xsrfCookie } from './http/xsrf'
import { isSecure } from './http/respond'
import { batchspawnerApi } from './api/batchspawner'
import { pageRoutes } from './pages/routes'
import { ErrorPage } from './pages/error-page'
import { sentence } from './pages/layout'
import { serverApi } from './api/servers'
import { userApi } from './api/users'
import { tokenApi } from './api/tokens'
import { groupApi } from './api/groups'
import { infoApi } from './api/info'
import { oauthRoutes } from './oauth/routes'
import { oidcRoutes } from './oidc/routes'
import { serviceApi } from './api/services'
import { hubAdminApi } from './api/hub-admin'
import { shareApi } from './api/shares'
import { JUPYTERHUB_API_VERSION, VERSION } from './version'
import { hubMetrics, metricsRoutes, timeRequests } from './metrics/routes'
import { accessLog } from './audit/access-log'
import { auditRequests } from './audit/middleware'

export { VERSION } from './version'

export function buildApp(
  deps: Deps,
  opts: { leadership?: Leadership; shutdown?: (servers: boolean) => void } = {},
): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  app.use('*', async (c, next) => {
    const rid = c.req.header('x-request-id')
    // the proxy's own rule (nginx.conf.tmpl): a sane client id is kept, so both logs name one request
    c.set('requestId', rid && /^[\w.:-]{1,128}$/.test(rid) ? rid : randomBytes(8).toString('hex'))
    c.set('deps', deps)
    c.set('identity', null)
    // Set before the handler, so the response it builds carries it: a header set on a finished
    // response makes Hono rebuild it around a body stream, the slow way to send it.
    c.header('X-Request-Id', c.var.requestId)
    await next()
    if (!c.res.headers.has('X-Request-Id')) c.header('X-Request-Id', c.var.requestId) // a Response built apart (OIDC)
  })

  const metrics = hubMetrics(deps, opts.leadership)
  app.use('*', timeRequests(metrics)) // jupyterhub_request_duration_seconds (docs/metrics.md)
  if (deps.config.accessLog) app.use('*', accessLog(deps)) // one info line per request (docs/audit.md)

  // For load balancers: 200 when this replica can reach Redis, else 503.
  app.get('/hub/health', async (c) => {
    const ok = await Promise.race([
      deps.redis.ping().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((r) => setTimeout(r, 2000, false)),
    ])
    const { leadership } = opts
    return c.json(
      {
        status: ok ? 'ok' : 'redis unavailable',
        version: VERSION,
        replica: leadership?.id ?? null,
        leader: leadership?.isLeader() ?? null,
      },
      ok ? 200 : 503,
    )
  })

  // Everything else needs Redis: while it is unreachable, 503 within redis.waitSec instead of hanging.
  app.use('*', redisGate(deps.redisAvailability))

  app.route('/hub/oidc', oidcRoutes(deps)) // ahead of the /hub/* middleware (see oidc/routes.ts)

  const limitBody = bodyLimit({
    maxSize: 1024 * 1024,
    onError: (c) => c.json({ status: 413, message: 'request body too large' }, 413),
  })
  // a GET or HEAD request has no body to limit; asking for it would build the whole fetch Request
  app.use('/hub/*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next)))
  app.use('/hub/*', identify())
  app.use('/hub/api/*', auditRequests('api', '/hub/api')) // the audited actions (control-plane/src/audit)
  app.use('/hub/*', auditRequests('pages', '/hub'))
  app.route('/hub', metricsRoutes(deps, metrics, opts.leadership)) // GET /hub/metrics, read:metrics

  const api = new Hono<HubEnv>()
  api.use('*', apiXsrf())
  api.route('/', infoApi())
  api.route('/', userApi())
  api.route('/users', serverApi())
  api.route('/users', tokenApi())
  api.route('/groups', groupApi())
  api.route('/services', serviceApi())
  api.route('/', hubAdminApi({ shutdown: opts.shutdown }))
  api.route('/', shareApi())
  api.route('/', batchspawnerApi()) // POST /hub/api/batchspawner: a batch job's server reports its port
  api.options('*', (c) => c.body(null, 200)) // CORS preflight, as JupyterHub
  api.all('*', (c) => c.json({ status: 404, message: `no API endpoint ${c.req.method} ${c.req.path}` }, 404))
  app.use('/hub/api/*', async (c, next) => {
    c.header('X-JupyterHub-Version', JUPYTERHUB_API_VERSION) // before the handler, as X-Request-Id
    await next()
    if (!c.res.headers.has('X-JupyterHub-Version')) c.header('X-JupyterHub-Version', JUPYTERHUB_API_VERSION)
  })
  app.get('/hub/api', (c) =>
    c.json({ version: JUPYTERHUB_API_VERSION }, 200, { 'X-JupyterHub-Version': JUPYTERHUB_API_VERSION }),
  )
  app.get('/hub/api/', (c) => c.json({ version: JUPYTERHUB_API_VERSION })) // with or without the slash, as JupyterHub
  // OAuth: a page and a form of its own (XSRF in the form), and a token endpoint for clients
  app.use('/hub/api/oauth2/*', async (c, next) => xsrfCookie(isSecure(c))(c, next))
  app.route('/hub/api/oauth2', oauthRoutes())
  app.route('/hub/api', api)

  app.use('/hub/*', async (c, next) => xsrfCookie(isSecure(c))(c, next))
  app.route('/hub', pageRoutes())
  app.get('/', (c) => c.redirect('/hub/'))

  app.notFound((c) => {
    const user = c.var.identity?.user
    return c.html(<ErrorPage status={404} message={`There is nothing at ${c.req.path}.`} user={user} />, 404)
  })

  const unavailableLog = outageLog(deps.log)
  app.onError((err, c) => {
    const he =
      err instanceof HubError
        ? err
        : err instanceof ScopeError
          ? new BadRequest(err.message) // a scope that cannot apply here (e.g. a bare !server)
          : redisUnavailable(err)
            ? new Unavailable(undefined, err)
            : null
    const status = he?.status ?? 500
    const message = he?.expose ? he.message : 'internal error'
    if (he instanceof Unavailable) unavailableLog.note(c.req.path)
    else if (!he || status >= 500) {
      deps.log.error('request failed', { request_id: c.var.requestId, path: c.req.path, err })
    }
    if (status === 503) c.header('Retry-After', '2')
    if (he instanceof SpawnThrottled) c.header('Retry-After', String(he.retryAfterSec))
    // the OAuth authorize endpoint is a page a browser shows
    if (c.req.path.startsWith('/hub/api') && !c.req.path.startsWith('/hub/api/oauth2/authorize'))
      return c.json({ status, message }, status as 500)
    const user = c.var.identity?.user
    return c.html(<ErrorPage status={status} message={sentence(message)} user={user} />, status as 500)
  })

  return app
}

/**
 * While Redis is down every request fails alike: one warning for the first, then one every 10 s
 * with the count since, instead of a stack trace per request.
 */
function outageLog(log: Deps['log']) {
  let last = 0
  let since = 0
  return {
    note(path: string) {
      since++
      if (Date.now() - last < 10_000) return
      log.warn('answering 503: Redis is unreachable', { path, answered_503: since })
      last = Date.now()
      since = 0
    },
  }
}

/** ioredis gave up on a command: Redis is down or failing over (a retry will likely work). */
function redisUnavailable(err: unknown): boolean {
  const name = err instanceof Error ? err.name : ''
  const msg = err instanceof Error ? err.message : ''
  return (
    name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|ECONNREFUSED|READONLY|LOADING|MASTERDOWN|Stream isn't writeable/.test(msg)
  )
}
