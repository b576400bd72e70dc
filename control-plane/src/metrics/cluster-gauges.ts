// Cluster-wide gauges, read from Redis when Prometheus scrapes. Only the leader sets them (every
// other replica leaves them out), so a sum over the replicas Prometheus scrapes counts each once.
import type { Deps } from '../deps'
import type { Leadership } from '../jobs/leader'
import type { Gauge } from 'prom-client'
import { ACTIVE_PERIODS, type HubMetrics } from './hub-metrics'

/** jupyterhub_active_users is counted at most this often: it reads every user's last_activity. */
export const ACTIVE_USERS_REFRESH_MS = 60_000
/** Users whose last_activity one Redis script reads: bounds how long one call holds Redis. */
const ACTIVITY_CHUNK = 1000
/** A scrape waits this long at most for Redis to answer a ping, then for the cluster-wide values. */
const PING_TIMEOUT_MS = 2000
const READ_TIMEOUT_MS = 8000

type Source = Pick<Deps, 'redis' | 'keys' | 'users'>

export class ClusterGauges {
  private activeAt = 0
  private activeCounts: number[] | null = null
  private counting: Promise<void> | null = null

  constructor(
    private readonly d: Source,
    private readonly m: HubMetrics,
    private readonly leadership?: Leadership,
  ) {}

  /** Sets this replica's own gauges, and the cluster-wide ones on the leader (resets them elsewhere). */
  async collect(now = Date.now()): Promise<void> {
    const { m, leadership } = this
    m.leader.set(leadership?.isLeader() ? 1 : 0)
    const exporting = !leadership || leadership.isLeader()
    const cluster = [m.runningServers, m.pendingSpawns, m.totalUsers, m.activeUsers, m.proxyRoutes, m.proxyVersion]
    for (const g of cluster) g.reset()
    // left out of the registry, not exported as 0, where not set: a max() or avg() over replicas stays right
    for (const g of cluster) m.registry.removeSingleMetric(nameOf(g))
    try {
      await withTimeout(this.d.redis.ping(), PING_TIMEOUT_MS)
      m.redisUp.set(1)
    } catch {
      m.redisUp.set(0)
      return
    }
    if (!exporting) return
    try {
      await withTimeout(this.readCluster(now), READ_TIMEOUT_MS)
    } catch {
      m.scrapeErrors.inc()
      return // nothing half-read
    }
    for (const g of cluster) m.registry.registerMetric(g)
  }

  private async readCluster(now: number): Promise<void> {
    const { redis, keys } = this.d
    const [[, running], [, pending], [, users], [, routes], [, version]] = (await redis
      .multi()
      .scard(keys.runningServers)
      .zcount(keys.pendingSpawns, String(now), '+inf') // entries past their lifetime are dead spawns
      .zcard(keys.users)
      .hlen(keys.proxyTable('routes'))
      .get(keys.proxyVersion)
      .exec()) as Array<[Error | null, unknown]>
    const m = this.m
    m.runningServers.set(Number(running))
    m.pendingSpawns.set(Number(pending))
    m.totalUsers.set(Number(users))
    m.proxyRoutes.set(Number(routes))
    m.proxyVersion.set(Number(version ?? 0))
    const counts = await this.activeUsers(now)
    ACTIVE_PERIODS.forEach(([period], i) => {
      m.activeUsers.set({ period }, counts[i])
    })
  }

  /** Users active in each period; counted again at most every ACTIVE_USERS_REFRESH_MS. */
  private async activeUsers(now: number): Promise<number[]> {
    if (this.activeCounts && now - this.activeAt < ACTIVE_USERS_REFRESH_MS) return this.activeCounts
    this.counting ??= this.countActive(now).finally(() => {
      this.counting = null
    })
    await this.counting
    return this.activeCounts ?? ACTIVE_PERIODS.map(() => 0)
  }

  private async countActive(now: number): Promise<void> {
    const names = await this.d.users.allNames()
    const counts = ACTIVE_PERIODS.map(() => 0)
    for (let i = 0; i < names.length; i += ACTIVITY_CHUNK) {
      for (const iso of await this.d.users.lastActivities(names.slice(i, i + ACTIVITY_CHUNK))) {
        const age = now - Date.parse(iso ?? '')
        if (!(age >= -60_000)) continue // none, or unreadable (a clock a minute ahead still counts)
        ACTIVE_PERIODS.forEach(([, ms], p) => {
          if (age <= ms) counts[p]++
        })
      }
    }
    this.activeCounts = counts
    this.activeAt = now
  }
}

const nameOf = (g: Gauge) => (g as unknown as { name: string }).name

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Redis did not answer in time')), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}
