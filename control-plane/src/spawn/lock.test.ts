// The per-server lock and its fencing tokens against a real Redis: once anyone has acquired the lock
// after a holder's lease ran out, that holder's record and route writes are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testRedis } from '../../../test/support/redis'
import { acquireLock } from './lock'
import { Servers } from '../state/servers'
import { ProxyTables } from '../state/proxy-tables'
import { keyNames } from '../state/keys'
import { FencedOut } from '../../../runtime/src/errors'
import { waitFor } from '../../../runtime/src/wait'

let redis: Awaited<ReturnType<typeof testRedis>>
const keys = keyNames('locktest:')

beforeAll(async () => {
  redis = await testRedis()
})
afterAll(async () => redis?.stop())

describe('per-server lock', () => {
  it('is held by one holder at a time, and each acquisition takes a larger fencing token', async () => {
    const key = keys.serverLock('ada', '')
    const a = await acquireLock(redis.client, key, 5000)
    expect(a).not.toBeNull()
    expect(await acquireLock(redis.client, key, 5000)).toBeNull()
    await a!.release()
    const b = await acquireLock(redis.client, key, 5000)
    expect(b!.fence).toBeGreaterThan(a!.fence)
    await b!.release()
  })

  it('is renewed while held, so a live holder keeps it past its lease', async () => {
    const key = keys.serverLock('bob', '')
    const a = (await acquireLock(redis.client, key, 300))!
    await new Promise((r) => setTimeout(r, 900)) // three leases: only renewals keep it
    expect(await acquireLock(redis.client, key, 300)).toBeNull()
    await a.check()
    await a.release()
  })

  it("refuses a stalled holder's writes once anyone has acquired the lock after it, record written or not", async () => {
    const servers = new Servers(redis.client, keys)
    const tables = new ProxyTables(redis.client, keys.prefix)
    const key = keys.serverLock('carol', '')
    const stale = (await acquireLock(redis.client, key, 200))!
    await servers.save('carol', '', stale.guard, { state: 'pending' })
    // the holder stalls: renewals stop (as under SIGSTOP), the lease runs out
    await redis.client.del(key)
    const next = await waitFor('the lock to be free', () => acquireLock(redis.client, key, 5000))
    // the new holder has written nothing yet: the stale holder is refused all the same
    await expect(tables.set('routes', '/user/carol/', { target: '127.0.0.1:1' }, stale.guard)).rejects.toBeInstanceOf(
      FencedOut,
    )
    await expect(servers.save('carol', '', stale.guard, { state: 'running' })).rejects.toBeInstanceOf(FencedOut)
    await expect(stale.check()).rejects.toBeInstanceOf(FencedOut)
    expect(await tables.get('routes', '/user/carol/')).toBeUndefined()
    // removing the record does not reset the fence
    await servers.remove('carol', '')
    await expect(servers.save('carol', '', stale.guard, { state: 'running' })).rejects.toBeInstanceOf(FencedOut)
    // the current holder writes as usual
    await tables.set('routes', '/user/carol/', { target: '127.0.0.1:2' }, next.guard)
    await servers.save('carol', '', next.guard, { state: 'running' })
    expect((await servers.get('carol', ''))?.state).toBe('running')
    await next.release()
  })
})
