// The hub's Prometheus metrics: one registry per hub process, with JupyterHub's metric names where
// JupyterHub has the metric (jupyterhub/metrics.py) and edgehub_* names for what it has not.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

/** JupyterHub's ServerSpawnStatus values. */
export type SpawnStatus = 'success' | 'failure' | 'already-pending' | 'throttled' | 'too-many-users'
export type StopStatus = 'success' | 'failure'

/** Periods of jupyterhub_active_users, with their length in ms. */
export const ACTIVE_PERIODS = [
  ['1h', 3_600_000],
  ['24h', 86_400_000],
  ['7d', 7 * 86_400_000],
  ['30d', 30 * 86_400_000],
] as const

// JupyterHub's buckets (prometheus_client's defaults) for requests; spawns and stops take longer.
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
const SPAWN_BUCKETS = [0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 180, 300, 600, 900]

export class HubMetrics {
  readonly registry = new Registry()
  readonly requestDuration = new Histogram({
    name: 'jupyterhub_request_duration_seconds',
    help: 'request duration for all HTTP requests',
    labelNames: ['method', 'handler', 'code'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  })
  readonly spawnDuration = new Histogram({
    name: 'jupyterhub_server_spawn_duration_seconds',
    help: 'time taken for server spawning operation',
    labelNames: ['status'] as const,
    buckets: SPAWN_BUCKETS,
    registers: [this.registry],
  })
  readonly stopDuration = new Histogram({
    name: 'jupyterhub_server_stop_seconds',
    help: 'time taken for server stopping operation',
    labelNames: ['status'] as const,
    buckets: SPAWN_BUCKETS,
    registers: [this.registry],
  })
  // cluster-wide gauges: set at scrape time by cluster-gauges.ts, on the leader only
  readonly runningServers = this.gauge('jupyterhub_running_servers', 'the number of user servers currently running')
  readonly pendingSpawns = this.gauge('edgehub_pending_spawns', 'spawns in progress, across every replica')
  readonly totalUsers = this.gauge('jupyterhub_total_users', 'total number of users')
  readonly activeUsers = new Gauge({
    name: 'jupyterhub_active_users',
    help: 'number of users who were active in the given time period',
    labelNames: ['period'] as const,
    registers: [this.registry],
  })
  readonly proxyRoutes = this.gauge('edgehub_proxy_routes', 'routes in the proxy table in Redis')
  readonly proxyVersion = this.gauge(
    'edgehub_proxy_table_version',
    'version of the proxy tables in Redis, raised by every route or key change',
  )
  // this replica's own
  readonly info = new Gauge({
    name: 'edgehub_hub_info',
    help: 'one per hub replica: its version and replica id',
    labelNames: ['version', 'replica'] as const,
    registers: [this.registry],
  })
  readonly leader = this.gauge('edgehub_hub_leader', '1 when this replica holds the leader lease, else 0')
  readonly redisUp = this.gauge('edgehub_redis_up', '1 when this replica reached Redis at the last scrape, else 0')
  readonly scrapeErrors = new Counter({
    name: 'edgehub_metrics_collect_errors_total',
    help: 'scrapes whose cluster-wide values could not be read from Redis',
    registers: [this.registry],
  })

  constructor() {
    collectDefaultMetrics({ register: this.registry })
  }

  private gauge(name: string, help: string): Gauge {
    return new Gauge({ name, help, registers: [this.registry] })
  }
}
