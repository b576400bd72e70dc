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
import { Redis } from 'ioredis'
import { buildDeps, type Deps } from '../../../control-plane/src/deps'
import { configSchema } from '../../../control-plane/src/config/schema'
import { createLogger } from '../../../runtime/src/log'
import { proxyOptions } from '../../../control-plane/src/stack/proxy'
import { hubAclRules, proxyAclRules } from '../../../control-plane/src/protocol'
import { HEALTH_PATH, startProxy, type ProxyProcess } from '../../../proxy/src/nginx-process'
import { freePort } from '../../../runtime/src/ports'
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
let deps: Deps | undefined
let proxy: ProxyProcess | undefined
afterAll(async () => {
  await proxy?.stop()
  await deps?.close()
  await group?.stop()
  if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
})

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
    const port = await freePort()
    const config = configSchema.parse({
      dataDir: dir,
      port,
      logLevel: 'error',
      redis: {
        url: `redis://edgehub-hub:${hubPassword}@${group.masterName}/0`,
        sentinel: {
          hosts: group.sentinelHosts.map((s) => `${s.host}:${s.port}`),
          masterName: group.masterName,
          username: 'edgehub-sentinel',
          password: sentinelPassword,
        },
      },
      proxy: { workers: 1, redis: { username: 'edgehub-proxy', password: proxyPassword } },
    })
    deps = await buildDeps(config, { log: createLogger('test', { level: 'error' }) })
    proxy = await startProxy({ ...proxyOptions(config), runDir: join(dir, 'proxy') })
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${port}${HEALTH_PATH}`).catch(() => null)
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
    const v1 = await deps.tables.set('routes', '/user/alice/', {
      kind: 'user',
      target: '127.0.0.1:1',
      user: 'alice',
      server: '',
    })
    expect((await synced(v1)).redis_addr).toBe(`${first.host}:${first.port}`)
    expect(await deps.redis.call('ACL', 'WHOAMI')).toBe('edgehub-hub')

    await group.killMaster()
    const second = await group.waitForFailover(first)
    const v2 = await waitFor(
      'the hub to write to the new master',
      () =>
        deps!.tables
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
    expect(readFileSync(join(dir, 'proxy', 'logs', 'error.log'), 'utf8')).not.toMatch(
      /AUTH failed|NOPERM|NOAUTH|WRONGPASS/,
    )
  })
})
