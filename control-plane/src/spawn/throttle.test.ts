// The admission script against a real Redis, for what the stack tests do not reach on purpose: a
// server both spawning and recorded active counts once, a spawn entry past its lifetime counts for
// nothing, the concurrent limit is judged before the active one (as JupyterHub), and either limit
// alone works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testRedis } from '../../../test/support/redis'
import { SpawnThrottle } from './throttle'
import { ActiveServerLimitReached, ACTIVE_LIMIT_MESSAGE } from './active-limit'
import { SpawnThrottled } from '../errors'
import { waitFor } from '../util/wait'

let redis: Awaited<ReturnType<typeof testRedis>>
let n = 0

/** A throttle on keys of its own; `active` lists the servers recorded active ("USER/SERVER"). */
async function throttle(limits: { concurrent: number; active: number }, active: string[] = [], lifetimeMs = 60_000) {
  const keys = { pending: `t${++n}:pending`, active: `t${n}:active` }
  if (active.length) await redis.client.sadd(keys.active, ...active)
  return { t: new SpawnThrottle(redis.client, keys, limits, lifetimeMs), keys }
}

beforeAll(async () => {
  redis = await testRedis()
})
afterAll(async () => redis?.stop())

describe('spawn admission', () => {
  it('counts a server that is spawning and already recorded active once', async () => {
    const { t, keys } = await throttle({ concurrent: 0, active: 2 }, ['ann/'])
    await t.admit('bob/#4') // bob's spawn, not recorded yet: 2 active
    await expect(t.admit('cat/#1')).rejects.toBeInstanceOf(ActiveServerLimitReached)
    await redis.client.sadd(keys.active, 'bob/') // bob's record says pending now: still 2
    await expect(t.admit('cat/#2')).rejects.toThrow(ACTIVE_LIMIT_MESSAGE)
    await redis.client.srem(keys.active, 'ann/') // ann's server stopped
    await t.admit('cat/#3')
    expect(await redis.client.zrange(keys.pending, '0', '-1')).toEqual(expect.arrayContaining(['bob/#4', 'cat/#3']))
  })

  it('frees a place when a spawn releases its slot, and when its entry outlives its lifetime', async () => {
    const { t } = await throttle({ concurrent: 0, active: 1 }, [], 300)
    const slot = await t.admit('ann/#1')
    await expect(t.admit('bob/#1')).rejects.toBeInstanceOf(ActiveServerLimitReached)
    await slot.release()
    await t.admit('bob/#2') // its entry is left to expire (a replica that died mid-spawn)
    await waitFor('the entry to expire', async () => !!(await t.admit('cat/#1').catch(() => null)), { timeoutMs: 5000, intervalMs: 50 })
  })

  it('judges the concurrent limit first, and each limit works alone', async () => {
    const both = await throttle({ concurrent: 1, active: 1 })
    await both.t.admit('ann/#1')
    await expect(both.t.admit('bob/#1')).rejects.toBeInstanceOf(SpawnThrottled)

    const concurrentOnly = await throttle({ concurrent: 1, active: 0 }, ['x/', 'y/', 'z/'])
    await concurrentOnly.t.admit('ann/#1')
    await expect(concurrentOnly.t.admit('bob/#1')).rejects.toBeInstanceOf(SpawnThrottled)

    const activeOnly = await throttle({ concurrent: 0, active: 3 }, ['x/'])
    for (const u of ['ann', 'bob']) await activeOnly.t.admit(`${u}/#1`)
    await expect(activeOnly.t.admit('cat/#1')).rejects.toBeInstanceOf(ActiveServerLimitReached)

    const none = await throttle({ concurrent: 0, active: 0 }, ['x/'])
    for (let i = 0; i < 5; i++) await none.t.admit(`u${i}/#1`)
    expect(await redis.client.exists(none.keys.pending)).toBe(0) // nothing is kept without limits
  })

  it('reads a server name holding "#" by its last fence only', async () => {
    const { t } = await throttle({ concurrent: 0, active: 2 }, ['a#1/'])
    await t.admit('a#1/#7') // the same server as the recorded one
    await t.admit('bob/#1')
    await expect(t.admit('cat/#1')).rejects.toBeInstanceOf(ActiveServerLimitReached)
  })
})
