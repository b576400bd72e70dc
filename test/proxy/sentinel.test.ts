// The edge proxy behind Redis Sentinel: it finds the master through the sentinels, and after a
// failover (a sentinel-driven switch, then the master SIGKILLed) it resyncs from the new master
// while existing routes keep being served from its copy.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProxyTables } from '../../control-plane/src/protocol'
import { freePort } from '../../runtime/src/ports'
import { waitFor } from '../../runtime/src/wait'
import { startSentinelGroup, type Addr, type SentinelGroup } from '../support/sentinel'
import { http, PREFIX, startFakeServer, startStack, userRoute, type FakeServer, type Stack } from './harness'

const MASTER_PW = 'master-pw-7f3a'
const SENTINEL_PW = 'sentinel-pw-91c2'

let dir: string
let group: SentinelGroup
let stack: Stack
let alice: FakeServer
const clients: Redis[] = []

const addrOf = (a: Addr) => `${a.host}:${a.port}`
const health = async () => (await http(`${stack.proxy.url}/_edgehub/proxy/health`)).json()
const servedBy = async (user: string, path: string) => {
  const r = await http(stack.proxy.url + path, { headers: { cookie: `edgehub-session=${stack.cookie(user)}` } })
  return r.status === 200 ? (r.json().server as string) : `status ${r.status}`
}
/** ProxyTables on the node at addr, as the hub would write them. */
function tablesAt(addr: Addr) {
  const client = group.client(addr)
  clients.push(client)
  return { client, tables: new ProxyTables(client, PREFIX) }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgehub-sentinel-test-'))
  group = await startSentinelGroup({ dir, password: MASTER_PW, sentinelPassword: SENTINEL_PW })
  alice = await startFakeServer('alice')
  const deadSentinel = await freePort() // nothing listens: the proxy must move on to the next one
  stack = await startStack({
    redisFirst: false,
    proxy: {
      redis: {
        password: MASTER_PW,
        sentinel: {
          hosts: [{ host: '127.0.0.1', port: deadSentinel }, ...group.sentinelHosts],
          masterName: group.masterName,
          password: SENTINEL_PW,
        },
      },
      activityFlushSec: 1,
    },
  })
  const { tables } = tablesAt(await group.currentMaster())
  await tables.set('keys', stack.kid, { secret: stack.secret, created: Math.floor(Date.now() / 1000) })
  await tables.set('routes', '/user/alice/', userRoute('alice', alice.target, 'alice-secret'))
})

afterAll(async () => {
  for (const c of clients) c.disconnect()
  await stack?.stop()
  await alice?.close()
  await group?.stop()
  if (dir && !process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
})

describe('proxy with Redis Sentinel', () => {
  it('syncs from the master the sentinels name, past a sentinel that is down', async () => {
    const master = await group.currentMaster()
    await waitFor('route served', async () => (await servedBy('alice', '/user/alice/')) === 'alice', {
      timeoutMs: 10_000,
    })
    const h = await health()
    expect(h).toMatchObject({ status: 'ok', redis: 'connected', redis_addr: addrOf(master) })
  })

  it('moves on a sentinel-driven switch (SENTINEL FAILOVER) while both nodes stay up', async () => {
    const { client } = tablesAt(await group.currentMaster())
    expect(await client.wait(1, 5000)).toBeGreaterThanOrEqual(1) // the replica is in sync
    const old = await group.failover()
    const next = await group.waitForFailover(old)
    expect(group.nodeAt(old)!.alive()).toBe(true)
    const { tables } = tablesAt(next)
    await tables.set('routes', '/user/carol/', userRoute('carol', alice.target, 'carol-secret'))
    await waitFor(
      'route written after the switch served',
      async () => (await servedBy('carol', '/user/carol/')) === 'alice',
      {
        timeoutMs: 30_000,
        intervalMs: 100,
      },
    )
    expect(await servedBy('alice', '/user/alice/')).toBe('alice')
    expect(await health()).toMatchObject({ redis: 'connected', redis_addr: addrOf(next) })
  })

  it('follows a SIGKILLed master to the new one: existing routes never fail, new routes arrive', async () => {
    const { client } = tablesAt(await group.currentMaster())
    // the demoted node follows the new master: wait until it has everything so far
    await waitFor('replica in sync', async () => (await client.wait(1, 1000)) >= 1, { timeoutMs: 30_000 })
    const recoveries = () =>
      readFileSync(stack.proxy.errorLog, 'utf8')
        .split('\n')
        .filter((l) => l.includes('synced after redis errors'))
    const before = recoveries().length

    let stop = false
    const results = { ok: 0, failed: [] as string[] }
    const loop = (async () => {
      while (!stop) {
        const got = await servedBy('alice', '/user/alice/lab').catch((e: Error) => e.message)
        if (got === 'alice') results.ok++
        else results.failed.push(got)
      }
    })()

    const old = await group.killMaster()
    const next = await group.waitForFailover(old)
    expect(next).not.toEqual(old)
    const { client: nextClient, tables } = tablesAt(next)
    await tables.set('routes', '/user/bob/', userRoute('bob', alice.target, 'bob-secret'))
    await waitFor(
      'route written on the new master served',
      async () => (await servedBy('bob', '/user/bob/')) === 'alice',
      {
        timeoutMs: 30_000,
        intervalMs: 100,
      },
    )
    stop = true
    await loop

    expect(results.failed).toEqual([])
    expect(results.ok).toBeGreaterThan(10)
    expect(await servedBy('carol', '/user/carol/')).toBe('alice')
    expect(await health()).toMatchObject({
      redis: 'connected',
      redis_addr: addrOf(next),
      version: await tables.version(),
    })
    // the requests made during the failover reach the new master's activity hash too
    await waitFor('activity on the new master', async () => {
      const ms = Number(await nextClient.hget(`${PREFIX}activity`, 'alice/'))
      return Math.abs(Date.now() - ms) < 5000
    })

    const recovered = recoveries().slice(before)
    expect(recovered).toHaveLength(1) // once per outage
    expect(recovered[0]).toContain(`"redis":"${addrOf(next)}"`)
    expect(recovered[0]).toContain(`"previous":"${addrOf(old)}"`)
    const log = readFileSync(stack.proxy.errorLog, 'utf8')
    expect(log).not.toContain(MASTER_PW)
    expect(log).not.toContain(SENTINEL_PW)
  })
})
