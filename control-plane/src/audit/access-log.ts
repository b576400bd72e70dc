// The hub's access log: one info line per request (component "hub.access"), with the request id the
// proxy put in its own access log; answered health checks and metrics scrapes, which load balancers
// and Prometheus send every few seconds, at debug (as JupyterHub logs them). No query string (it may
// hold ?token=) and no token in the path of the deprecated /hub/api/authorizations/token/TOKEN, as in
// the proxy's access log.
import type { MiddlewareHandler } from 'hono'
import type { Deps } from '../deps'
import type { HubEnv } from '../http/env'

export function accessLog(deps: Deps): MiddlewareHandler<HubEnv> {
  const log = deps.log.child('access')
  return async (c, next) => {
    const t0 = performance.now()
    await next()
    const routine = c.res.status < 400 && QUIET_PATHS.has(c.req.path)
    log[routine ? 'debug' : 'info']('request', {
      request_id: c.var.requestId,
      method: c.req.method,
      path: safePath(c.req.path),
      status: c.res.status,
      user: c.var.identity?.user.name ?? c.var.service?.name ?? null,
      ms: Math.round((performance.now() - t0) * 10) / 10,
    })
  }
}

/** Paths polled by machines: logged at debug when answered. */
const QUIET_PATHS = new Set(['/hub/health', '/hub/metrics', '/hub/api/metrics'])

/** The path as logged: runs of slashes as one (the route matches either), a token in it hidden. */
export const safePath = (path: string) =>
  path
    .replace(/\/{2,}/g, '/')
    .replace(/^(\/hub\/api\/authorizations\/(token|cookie)\/).*/, '$1[secret]')
    .slice(0, 1000)
