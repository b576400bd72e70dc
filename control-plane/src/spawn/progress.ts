// Spawn progress events in a Redis stream per server, so any replica can stream them to a browser.
import type { Redis } from 'ioredis'
import type { KeyNames } from '../state/keys'
import { delay } from '../../../runtime/src/wait'

export interface ProgressEvent {
  progress: number
  message: string
  ready?: boolean
  failed?: boolean
  url?: string
}

const MAX_EVENTS = 200
const TTL_SEC = 24 * 3600

export class Progress {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
  ) {}

  async reset(user: string, server: string): Promise<void> {
    await this.redis.del(this.keys.progress(user, server))
  }

  async publish(user: string, server: string, ev: ProgressEvent): Promise<void> {
    const key = this.keys.progress(user, server)
    await this.redis
      .multi()
      .xadd(key, 'MAXLEN', '~', MAX_EVENTS, '*', 'e', JSON.stringify(ev))
      .expire(key, TTL_SEC)
      .exec()
  }

  /** The events of the last spawn so far. */
  async history(user: string, server: string): Promise<ProgressEvent[]> {
    const entries = await this.redis.xrange(this.keys.progress(user, server), '-', '+')
    return entries.map(([, fields]) => JSON.parse(fields[1]) as ProgressEvent)
  }

  /** Every event of the current spawn, then new ones as they come, until a final one or the signal. */
  async *follow(user: string, server: string, signal: AbortSignal): AsyncGenerator<ProgressEvent> {
    const key = this.keys.progress(user, server)
    const conn = this.redis.duplicate()
    const onAbort = () => conn.disconnect()
    signal.addEventListener('abort', onAbort, { once: true })
    let last = '0'
    try {
      while (!signal.aborted) {
        const res = await conn.xread('COUNT', 100, 'BLOCK', 5000, 'STREAMS', key, last).catch(async () => {
          await delay(500, signal).catch(() => {}) // Redis away: try again shortly
          return null
        })
        if (signal.aborted) return
        if (!res) continue
        for (const [id, fields] of res[0][1]) {
          last = id
          const ev = JSON.parse(fields[1]) as ProgressEvent
          yield ev
          if (ev.ready || ev.failed) return
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort)
      conn.disconnect()
    }
  }
}
