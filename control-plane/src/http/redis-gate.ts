// While Redis (all state) is unreachable, requests wait at most `waitMs` for it, then get 503 with
// Retry-After instead of hanging: at the start of a request, and again if Redis goes away while the
// request is waiting on it. A Redis restart or a Sentinel failover shorter than that is invisible.
import type { MiddlewareHandler } from 'hono'
import type { Redis } from 'ioredis'
import { Unavailable } from '../errors'

const MESSAGE = 'the hub cannot reach its database (Redis); try again shortly'

/** Follows one ioredis connection's state: up (ready) or down since when. */
export class RedisAvailability {
  private waiters = new Set<() => void>()
  /** Requests to fail when the current outage has lasted the wait. */
  private inFlight = new Set<(err: Error) => void>()
  private outageTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly redis: Redis,
    readonly waitMs: number,
  ) {
    redis.on('ready', () => {
      clearTimeout(this.outageTimer)
      this.outageTimer = undefined
      for (const wake of this.waiters) wake()
      this.waiters.clear()
    })
    redis.on('close', () => this.down())
  }

  get up(): boolean {
    return this.redis.status === 'ready'
  }

  private down(): void {
    if (this.outageTimer) return
    this.outageTimer = setTimeout(() => {
      this.outageTimer = undefined
      if (this.up) return
      const err = new Unavailable(MESSAGE)
      for (const fail of this.inFlight) fail(err)
      this.inFlight.clear()
    }, this.waitMs)
    this.outageTimer.unref()
  }

  /** Resolves true once Redis is ready, false when waitMs pass first. */
  waitUp(): Promise<boolean> {
    if (this.up) return Promise.resolve(true)
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        resolve(true)
      }
      const timer = setTimeout(() => {
        this.waiters.delete(wake)
        resolve(this.up)
      }, this.waitMs)
      this.waiters.add(wake)
    })
  }

  /** Runs work; rejects with Unavailable if an outage during it lasts waitMs (work goes on unobserved). */
  guard<T>(work: Promise<T>): Promise<T> {
    let fail!: (err: Error) => void
    const failed = new Promise<never>((_, reject) => (fail = reject))
    this.inFlight.add(fail)
    return Promise.race([work, failed]).finally(() => this.inFlight.delete(fail))
  }
}

export function redisGate(availability: RedisAvailability): MiddlewareHandler {
  return async (_c, next) => {
    if (!availability.up && !(await availability.waitUp())) throw new Unavailable(MESSAGE)
    await availability.guard(next())
  }
}
