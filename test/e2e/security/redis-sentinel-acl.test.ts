// Redis Sentinel with the hub's and the proxy's ACL users (docs/high-availability.md, step 5, on
// both data nodes): the hub follows the master through ioredis's Sentinel support and the proxy
// through its own, each logging in to the master as its own user, before and after a failover. Both
// ask the sentinels as the sentinels' own ACL user (redis.sentinel.username and .password).
import { afterAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSentinelGroup, type SentinelGroup } from '../../support/sentinel'
import { json } from '../../support/client'
import { ROOT } from '../../support/stack'
import { startHarness, STATE_CONNECTION, type Harness } from '../../support/harness'
import { rootOf } from '../../support/people'
import { Redis } from 'ioredis'
import { hubAclRules, proxyAclRules } from '../../../control-plane/src/protocol'
import { HEALTH_PATH } from '../../../proxy/src/nginx-process'
import { waitFor } from '../../../runtime/src/wait'

/** The sentinels' user for hubs and proxies, as docs/high-availability.md gives it: [name, ...rules]. */
function sentinelUserFromDoc(password: string): string[] {
  const doc = readFileSync(join(ROOT, 'docs/high-availability.md'), 'utf8')
  const blocks = [...doc.matchAll(/^```conf sentinel-acl\n([\s\S]*?)^```$/gm)]
  if (blocks.length !== 1)
    throw new Error(`docs/high-availability.md: expected one \`conf sentinel-acl\` block, found ${blocks.length}`)
  const [user, ...rest] = blocks[0][1].trim().replace('SENTINEL_PASSWORD', password).split(' ')
  expect(user).toBe('user')
  return rest
}

const dir = mkdtempSync(join(tmpdir(), 'edgehub-sentinel-acl-'))
let group: SentinelGroup | undefined
let stack: Harness | undefined
afterAll(async () => {
  await stack?.stop()
  await group?.stop()
  if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
}, 60_000)

/** The users logged in to node's Redis from other connections than the harness's own (the hub's, the proxy's). */
async function loggedIn(g: SentinelGroup, at: { host: string; port: number }): Promise<string[]> {
  const c = g.client(at)
  try {
    const list = String(await c.call('CLIENT', 'LIST'))
    const users = list
      .split('\n')
      .filter((l) => l && !l.includes(` name=${STATE_CONNECTION} `))
      .map((l) => /\buser=(\S+)/.exec(l)?.[1])
    return [...new Set(users.filter((u): u is string => !!u && u !== 'default'))].sort()
  } finally {
    c.disconnect()
  }
}

describe('Redis Sentinel with ACL users', () => {
  it('hub and proxy log in to the master as their own users, before and after a failover', async () => {
    group = await startSentinelGroup({ dir: join(dir, 'sentinel'), password: randomBytes(16).toString('hex') })
    const hubPassword = randomBytes(32).toString('hex')
    const proxyPassword = randomBytes(32).toString('hex')
    for (const node of group.nodes) {
      const c = group.client(node)
      try {
        await c.call('ACL', 'SETUSER', 'edgehub-hub', 'on', `>${hubPassword}`, ...hubAclRules('edgehub:').split(' '))
        await c.call(
          'ACL',
          'SETUSER',
          'edgehub-proxy',
          'on',
          `>${proxyPassword}`,
          ...proxyAclRules('edgehub:').split(' '),
        )
      } finally {
        c.disconnect()
      }
    }
    const sentinelPassword = randomBytes(16).toString('hex')
    for (const s of group.sentinels) {
      const c = new Redis({ host: s.host, port: s.port, enableReadyCheck: false, maxRetriesPerRequest: 1 })
      try {
        const [name, ...rules] = sentinelUserFromDoc(sentinelPassword)
        expect(name).toBe('edgehub-sentinel')
        await c.call('ACL', 'SETUSER', name, ...rules)
      } finally {
        c.disconnect()
      }
    }
    // one hub and one proxy from a config file, as docs/high-availability.md sets them up
    stack = await startHarness({
      redis: 'sentinel',
      sentinelGroup: group,
      layout: 'single',
      settings: {
        redis: {
          url: `redis://edgehub-hub:${hubPassword}@${group.masterName}/0`,
          sentinel: {
            hosts: group.sentinelHosts.map((s) => `${s.host}:${s.port}`),
            masterName: group.masterName,
            username: 'edgehub-sentinel',
            password: sentinelPassword,
          },
        },
        proxy: { redis: { username: 'edgehub-proxy', password: proxyPassword } },
      },
    })
    const s = stack
    const root = await rootOf(s)
    const health = async () => {
      const res = await fetch(`${s.url}${HEALTH_PATH}`).catch(() => null)
      return res?.ok ? ((await json(res)) as { version: number; redis: string; redis_addr: string }) : undefined
    }
    const synced = (version: number) =>
      waitFor(
        `the proxy to sync version ${version}`,
        async () => {
          const h = await health()
          return h?.redis === 'connected' && h.version >= version ? h : undefined
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      )

    const first = await group.currentMaster()
    const v1 = await s.tables.set('routes', '/user/alice/', {
      kind: 'user',
      target: '127.0.0.1:1',
      user: 'alice',
      server: '',
    })
    expect((await synced(v1)).redis_addr).toBe(`${first.host}:${first.port}`)
    expect(await s.state.call('ACL', 'WHOAMI')).toBe('edgehub-hub')
    // the hub's and the proxy's own connections to the master, each as its own user
    expect(await loggedIn(group, first)).toEqual(['edgehub-hub', 'edgehub-proxy'])

    await group.killMaster()
    const second = await group.waitForFailover(first)
    // the hub writes to the new master (a user added through its API)
    await waitFor(
      'the hub to write to the new master',
      async () => (await fetch(`${s.url}/hub/api/users/bob`, { method: 'POST', headers: root.auth })).status === 201,
      { timeoutMs: 20_000, intervalMs: 200 },
    )
    const v2 = await waitFor(
      'a write to the new master as the hub',
      () =>
        s.tables
          .set('routes', '/user/bob/', { kind: 'user', target: '127.0.0.1:2', user: 'bob', server: '' })
          .catch(() => undefined),
      { timeoutMs: 20_000, intervalMs: 200 },
    )
    const after = await waitFor(
      'the proxy to follow the new master',
      async () => {
        const h = await synced(v2)
        return h.redis_addr === `${second.host}:${second.port}` ? h : undefined
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    )
    expect(after.version).toBeGreaterThanOrEqual(v2)
    await waitFor(
      'the hub and the proxy logged in to the new master',
      async () => (await loggedIn(group!, second)).join() === 'edgehub-hub,edgehub-proxy',
      { timeoutMs: 20_000, intervalMs: 200 },
    )
    expect(readFileSync(join(s.dir, 'proxy', 'logs', 'error.log'), 'utf8')).not.toMatch(
      /AUTH failed|NOPERM|NOAUTH|WRONGPASS/,
    )
  })
})
