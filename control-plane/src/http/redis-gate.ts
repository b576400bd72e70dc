// While Redis (all state) is unreachable, requests wait at most `waitMs` for it, then get 503 with
// Retry-After instead of hanging. "Unreachable" is a closed connection, or one that stalls: a Redis
// that is stopped (SIGSTOP), a network path that drops packets, a Redis busy for longer than the
// wait. A Redis restart or a Sentinel failover shorter than the wait is invisible.
import type { MiddlewareHandler } from 'hono'
import type { Redis } from 'ioredis'
import { Unavailable } from '../../../runtime/src/errors'

const MESSAGE = 'the hub cannot reach its database (Redis); try again shortly'

/**
 * A write already sent waits this many times longer than a read before its answer is given up: a
 * write answered 503 is still carried out if Redis comes back (ioredis sends its queued commands
 * again), and the client, told to retry, would do it twice.
 */
export const WRITE_WAIT_FACTOR = 10

/** Follows one ioredis connection's state: up (ready and answering) or down since when. */
export class RedisAvailability {
  private waiters = new Set<() => void>()
  /** Requests waiting on Redis: how to fail each, and after how long an outage. */
  private inFlight = new Map<(err: Error) => void, number>()
  private downSince: number | undefined
  /** A PING went unanswered for waitMs on a connection that says it is ready. */
  private stalled = false
  private watchdog: NodeJS.Timeout | undefined
  private probing = false

  constructor(
    private readonly redis: Redis,
    readonly waitMs: number,
  ) {
    redis.on('ready', () => this.back())
    redis.on('close', () => {
      this.downSince ??= Date.now()
      this.watch()
    })
  }

  get up(): boolean {
    return this.redis.status === 'ready' && !this.stalled
  }

  private back(): void {
    this.stalled = false
    this.downSince = undefined
    for (const wake of this.waiters) wake()
    this.waiters.clear()
  }

  /**
   * Every waitMs / 2 while anything waits on Redis or it is down: fails requests whose outage has
   * lasted their limit, and sends a PING on the same connection when it claims to be ready, to find
   * a stall. Costs nothing while the hub is idle and two PINGs a second while it is busy.
   */
  private watch(): void {
    if (this.watchdog) return
    this.watchdog = setInterval(() => void this.tick(), Math.max(50, this.waitMs / 2))
    this.watchdog.unref()
  }

  private async tick(): Promise<void> {
    if (this.inFlight.size === 0 && this.waiters.size === 0 && this.downSince === undefined) {
      clearInterval(this.watchdog)
      this.watchdog = undefined
      return
    }
    this.failExpired()
    if (this.probing || this.redis.status !== 'ready') return // a closed connection is down already
    this.probing = true
    let timer: NodeJS.Timeout | undefined
    const answered = await Promise.race([
      this.redis.ping().then(
        () => true,
        () => false,
      ),
      new Promise<false>((r) => (timer = setTimeout(r, this.waitMs, false))),
    ])
    clearTimeout(timer)
    this.probing = false
    if (answered && this.stalled) this.back()
    else if (!answered && this.redis.status === 'ready' && !this.stalled) {
      this.stalled = true
      this.downSince = Date.now() - this.waitMs // the PING's wait was the outage's first waitMs
      this.failExpired()
    }
  }

  /** Fails the requests whose limit the outage has reached. */
  private failExpired(): void {
    if (this.downSince === undefined) return
    const down = Date.now() - this.downSince
    const err = new Unavailable(MESSAGE)
    for (const [fail, limit] of this.inFlight) {
      if (down >= limit) {
        fail(err)
        this.inFlight.delete(fail)
      }
    }
  }

  /** Resolves true once Redis is up, false when waitMs pass first. */
  waitUp(): Promise<boolean> {
    if (this.up) return Promise.resolve(true)
    this.watch()
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

  /**
   * Runs work; rejects with Unavailable once Redis has been unreachable for limitMs while it runs
   * (the work goes on unobserved).
   */
  guard<T>(work: Promise<T>, limitMs = this.waitMs): Promise<T> {
    let fail!: (err: Error) => void
    const failed = new Promise<never>((_, reject) => (fail = reject))
    this.inFlight.set(fail, limitMs)
    this.watch()
    return Promise.race([work, failed]).finally(() => this.inFlight.delete(fail))
  }
}

/**
 * 503 at the start of a request while Redis stays unreachable for waitMs, and when it becomes
 * unreachable under the request: after waitMs for a read (GET, HEAD), after WRITE_WAIT_FACTOR times
 * that for a write (see above).
 */
export function redisGate(availability: RedisAvailability): MiddlewareHandler {
  return async (c, next) => {
    if (!availability.up && !(await availability.waitUp())) throw new Unavailable(MESSAGE)
    const read = c.req.method === 'GET' || c.req.method === 'HEAD'
    await availability.guard(next(), read ? availability.waitMs : availability.waitMs * WRITE_WAIT_FACTOR)
  }
}
