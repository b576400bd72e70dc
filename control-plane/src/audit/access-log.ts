// The hub's access log: one info line per request (component "hub.access"), with the request id the
// proxy put in its own access log. No query string (it may hold ?token=) and no token in the path of
// the deprecated /hub/api/authorizations/token/TOKEN, as in the proxy's access log.
import type { MiddlewareHandler } from 'hono'
import type { Deps } from '../deps'
import type { HubEnv } from '../http/env'

export function accessLog(deps: Deps): MiddlewareHandler<HubEnv> {
  const log = deps.log.child('access')
  return async (c, next) => {
    const t0 = performance.now()
    await next()
    log.info('request', {
      request_id: c.var.requestId,
      method: c.req.method,
      path: safePath(c.req.path),
      status: c.res.status,
      user: c.var.identity?.user.name ?? c.var.service?.name ?? null,
      ms: Math.round((performance.now() - t0) * 10) / 10,
    })
  }
}

export const safePath = (path: string) =>
  path.replace(/^(\/hub\/api\/authorizations\/(token|cookie)\/).*/, '$1[secret]').slice(0, 1000)
