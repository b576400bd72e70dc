// GET /hub/metrics (Prometheus text format) and the middleware timing every request.
import { Hono, type MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import type { Deps } from '../deps'
import type { Leadership } from '../jobs/leader'
import type { HubEnv } from '../http/env'
import { need } from '../http/authorize'
import { VERSION } from '../version'
import { HubMetrics } from './hub-metrics'
import { ClusterGauges } from './cluster-gauges'
import { timeSpawnsAndStops } from './spawn-timing'

const perDeps = new WeakMap<Deps, HubMetrics>()

/** This process's metrics for these deps (one registry, however many apps are built on them). */
export function hubMetrics(deps: Deps, leadership?: Leadership): HubMetrics {
  let m = perDeps.get(deps)
  if (!m) {
    m = new HubMetrics()
    m.info.set({ version: VERSION, replica: leadership?.id ?? deps.hubId }, 1)
    timeSpawnsAndStops(deps.orchestrator, deps.servers, m)
    perDeps.set(deps, m)
  }
  return m
}

/**
 * Times each request into jupyterhub_request_duration_seconds. The handler label is the route's
 * pattern (/hub/api/users/:name), never the path itself, so the label set stays small.
 */
export function timeRequests(m: HubMetrics): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    const t0 = performance.now()
    try {
      await next()
    } finally {
      const handler = c.res.status === 404 && routePath(c) === '*' ? 'not-found' : routePath(c)
      m.requestDuration.observe(
        { method: c.req.method, handler, code: String(c.res.status) },
        (performance.now() - t0) / 1000,
      )
    }
  }
}

/**
 * GET /metrics and /api/metrics (both JupyterHub's paths, under /hub): need read:metrics unless
 * hub.authenticatePrometheus is false (JupyterHub's setting).
 */
export function metricsRoutes(deps: Deps, m: HubMetrics, leadership?: Leadership): Hono<HubEnv> {
  const gauges = new ClusterGauges(deps, m, leadership)
  const app = new Hono<HubEnv>()
  app.on('GET', ['/metrics', '/api/metrics'], async (c) => {
    if (deps.config.hub.authenticatePrometheus) need(c, 'read:metrics')
    await gauges.collect()
    return c.body(await m.registry.metrics(), 200, {
      'Content-Type': m.registry.contentType,
      'Cache-Control': 'no-store',
    })
  })
  return app
}
