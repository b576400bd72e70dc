// The admission script against a real Redis, for what the stack tests do not reach on purpose: a
// server both spawning and recorded active counts once, a spawn entry past its lifetime counts for
// nothing, the limits are judged in JupyterHub's order (named, concurrent, active), each works alone,
// and a user's named servers count whether recorded or only admitted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testRedis } from '../../../test/support/redis'
import { SpawnThrottle, type SpawnLimits } from './throttle'
import { ActiveServerLimitReached, ACTIVE_LIMIT_MESSAGE } from './active-limit'
import { NamedServerLimitReached } from './named-limit'
import { SpawnThrottled } from '../../../runtime/src/errors'
import { waitFor } from '../../../runtime/src/wait'

let redis: Awaited<ReturnType<typeof testRedis>>
let n = 0

/**
 * A throttle on keys of its own. `active` lists the servers recorded active ("USER/SERVER"), each
 * also in its user's server set, as state/servers.ts records them.
 */
async function throttle(limits: Partial<SpawnLimits>, active: string[] = [], lifetimeMs = 60_000) {
  const p = `t${++n}:`
  const keys = { pending: `${p}pending`, active: `${p}active`, userServers: (user: string) => `${p}servers:${user}` }
  for (const ref of active) {
    const [user, server] = ref.split('/')
    await redis.client.sadd(keys.active, ref)
    await redis.client.sadd(keys.userServers(user), server)
  }
  const t = new SpawnThrottle(redis.client, keys, { concurrent: 0, active: 0, namedPerUser: 0, ...limits }, lifetimeMs)
  return { t, keys }
}

beforeAll(async () => {
  redis = await testRedis()
})
afterAll(async () => redis?.stop())

describe('spawn admission', () => {
  it('counts a server that is spawning and already recorded active once', async () => {
    const { t, keys } = await throttle({ active: 2 }, ['ann/'])
    await t.admit('bob', '', 4) // bob's spawn, not recorded yet: 2 active
    await expect(t.admit('cat', '', 1)).rejects.toBeInstanceOf(ActiveServerLimitReached)
    await redis.client.sadd(keys.active, 'bob/') // bob's record says pending now: still 2
    await expect(t.admit('cat', '', 2)).rejects.toThrow(ACTIVE_LIMIT_MESSAGE)
    await redis.client.srem(keys.active, 'ann/') // ann's server stopped
    await t.admit('cat', '', 3)
    expect(await redis.client.zrange(keys.pending, '0', '-1')).toEqual(expect.arrayContaining(['bob/#4', 'cat/#3']))
  })

  it('frees a place when a spawn releases its slot, and when its entry outlives its lifetime', async () => {
    const { t } = await throttle({ active: 1 }, [], 300)
    const slot = await t.admit('ann', '', 1)
    await expect(t.admit('bob', '', 1)).rejects.toBeInstanceOf(ActiveServerLimitReached)
    await slot.release()
    await t.admit('bob', '', 2) // its entry is left to expire (a replica that died mid-spawn)
    await waitFor('the entry to expire', async () => !!(await t.admit('cat', '', 1).catch(() => null)), {
      timeoutMs: 5000,
      intervalMs: 50,
    })
  })

  it("judges the limits in JupyterHub's order, and each limit works alone", async () => {
    const all = await throttle({ namedPerUser: 1, concurrent: 1, active: 2 }, ['ann/work'])
    await expect(all.t.admit('ann', 'play', 1)).rejects.toBeInstanceOf(NamedServerLimitReached)
    await all.t.admit('bob', '', 1)
    await expect(all.t.admit('cat', '', 1)).rejects.toBeInstanceOf(SpawnThrottled)

    const concurrentOnly = await throttle({ concurrent: 1 }, ['x/', 'y/', 'z/'])
    await concurrentOnly.t.admit('ann', '', 1)
    await expect(concurrentOnly.t.admit('bob', '', 1)).rejects.toBeInstanceOf(SpawnThrottled)

    const activeOnly = await throttle({ active: 3 }, ['x/'])
    for (const u of ['ann', 'bob']) await activeOnly.t.admit(u, '', 1)
    await expect(activeOnly.t.admit('cat', '', 1)).rejects.toBeInstanceOf(ActiveServerLimitReached)

    const none = await throttle({}, ['x/'])
    for (let i = 0; i < 5; i++) await none.t.admit(`u${i}`, 's', 1)
    expect(await redis.client.exists(none.keys.pending)).toBe(0) // nothing is kept without limits
  })

  it("counts a user's other named servers, recorded or only admitted, and never the default one or other users'", async () => {
    const { t, keys } = await throttle({ namedPerUser: 2 }, ['ann/', 'ann/work', 'bob/a', 'bob/b'])
    await redis.client.sadd(keys.userServers('ann'), 'old') // a stopped named server: recorded, not active
    await t.admit('ann', '', 1) // the default server is not limited
    await t.admit('ann', 'play', 1) // work + play
    await expect(t.admit('ann', 'third', 1)).rejects.toThrow('User ann already has 2 named servers running (limit 2)')
    await expect(t.admit('ann', 'old', 1)).rejects.toBeInstanceOf(NamedServerLimitReached)
    // a server already counted is not counted against itself (a restart of a stale record)
    const work = await t.admit('ann', 'work', 2)
    await expect(t.admit('ann', 'old', 2)).rejects.toBeInstanceOf(NamedServerLimitReached)
    // work stopped (its record, then its spawn's entry): a place for old
    await redis.client.srem(keys.active, 'ann/work')
    await expect(t.admit('ann', 'old', 3)).rejects.toBeInstanceOf(NamedServerLimitReached)
    await work.release()
    await t.admit('ann', 'old', 4)
  })

  it('reads a user name holding "#" up to its fence', async () => {
    const { t } = await throttle({ active: 2, namedPerUser: 1 }, ['a#1/'])
    await t.admit('a#1', '', 7) // the same server as the recorded one
    await t.admit('a#1', 'x', 1)
    await expect(t.admit('a#1', 'y', 1)).rejects.toBeInstanceOf(NamedServerLimitReached)
    await expect(t.admit('cat', '', 1)).rejects.toBeInstanceOf(ActiveServerLimitReached)
  })
})
