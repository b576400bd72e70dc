// Last activity per server: the hash `activity` (field "user/server", epoch ms), max-merged by every
// proxy (requests it served) and by the hub (activity servers report). See docs/redis-schema.md.
import type { Redis, Result } from 'ioredis'
import { ACTIVITY_MERGE_SCRIPT, type KeyNames } from './keys'

export const activityField = (user: string, server: string) => `${user}/${server}`

/** The later of ISO timestamps and epoch-ms values, as ISO; null when none is given. */
export function latest(...times: Array<string | number | null | undefined>): string | null {
  const ms = times
    .map((t) => (typeof t === 'string' ? Date.parse(t) : t))
    .filter((t): t is number => typeof t === 'number' && Number.isFinite(t) && t > 0)
  return ms.length ? new Date(Math.max(...ms)).toISOString() : null
}

export class Activity {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
  ) {
    if (!redis.mergeActivity) redis.defineCommand('mergeActivity', { numberOfKeys: 1, lua: ACTIVITY_MERGE_SCRIPT })
  }

  /** Raises the last activity of each (user, server) to the given time, never lowers it. */
  async record(entries: Array<{ user: string; server: string; at: Date }>): Promise<void> {
    if (entries.length === 0) return
    await this.redis.mergeActivity(
      this.keys.activity,
      ...entries.flatMap((e) => [activityField(e.user, e.server), String(e.at.getTime())]),
    )
  }

  /** Last activity of each of user's servers, epoch ms, by server name. */
  async ofUser(user: string, servers: string[]): Promise<Map<string, number>> {
    if (servers.length === 0) return new Map()
    const values = await this.redis.hmget(this.keys.activity, ...servers.map((s) => activityField(user, s)))
    return new Map(servers.flatMap((s, i) => (values[i] ? [[s, Number(values[i])] as const] : [])))
  }

  async forget(user: string, server: string): Promise<void> {
    await this.redis.hdel(this.keys.activity, activityField(user, server))
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    mergeActivity(key: string, ...argv: string[]): Result<number, Context>
  }
}
