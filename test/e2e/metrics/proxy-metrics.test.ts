// The proxy's metrics port (proxy.metricsPort): requests by kind, auth failures and upstream errors
// counted exactly after a known workload; sync state and tables held; the port answers on its own
// address only, and the public port never serves the proxy's metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { person, rootOf, startServer, type Admin } from '../../support/people'
import { okServerSpawner } from '../../support/servers'
import { removeAccounts, testPrefix } from '../../support/accounts'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'
import { parseExposition, sampleValue, type Sample } from './scrape'

const prefix = testPrefix()
let stack: Stack
let root: Admin
let ada: Admin
let metricsPort: number

beforeAll(async () => {
  metricsPort = await freePort()
  stack = await startStack({
    spawner: { ...okServerSpawner(), 'local-process': { ...okServerSpawner()['local-process'], userPrefix: prefix } },
    proxy: { metricsPort, activityFlushSec: 1 },
  })
  root = await rootOf(stack)
  ada = await person(root, 'ada')
  await startServer(stack.url, ada.token, ada.name)
}, 120_000)
afterAll(async () => {
  await stack?.stop()
  expect(removeAccounts(prefix)).toEqual([])
}, 60_000)

const scrape = async (): Promise<Sample[]> => {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
  expect(res.status).toBe(200)
  return parseExposition(await res.text())
}
const count = (s: Sample[], name: string, labels: Record<string, string>) => sampleValue(s, name, labels) ?? NaN

/**
 * Waits until `name{labels}` has grown by `by` since `before` (the log phase runs after the answer
 * is sent), then checks, with a scrape after, that it grew by exactly that much.
 */
async function expectGrowth(before: Sample[], name: string, labels: Record<string, string>, by: number) {
  const from = count(before, name, labels)
  await waitFor(
    `${name} ${JSON.stringify(labels)} to grow by ${by}`,
    async () => count(await scrape(), name, labels) >= from + by,
    {
      timeoutMs: 10_000,
      intervalMs: 50,
    },
  )
  expect(count(await scrape(), name, labels) - from).toBe(by)
}

describe('the proxy metrics port', () => {
  it("counts requests to a user's server by kind and status class, with their latencies", async () => {
    const before = await scrape()
    const M = 7
    for (let i = 0; i < M; i++) {
      const res = await fetch(`${stack.url}/user/ada/api/status`, { headers: ada.auth })
      expect(res.status).toBe(200)
      await res.body?.cancel()
    }
    await expectGrowth(before, 'edgehub_proxy_requests_total', { kind: 'server', code: '2xx' }, M)
    await expectGrowth(before, 'edgehub_proxy_request_duration_seconds_count', { kind: 'server' }, M)
    const after = await scrape()
    expect(count(after, 'edgehub_proxy_request_duration_seconds_bucket', { kind: 'server', le: '+Inf' })).toBe(
      count(after, 'edgehub_proxy_request_duration_seconds_count', { kind: 'server' }),
    )
  })

  it('counts hub requests and refused requests to servers (no login, no grant)', async () => {
    const before = await scrape()
    const hub = await fetch(`${stack.url}/hub/api/`, { headers: ada.auth })
    expect(hub.status).toBe(200)
    await hub.body?.cancel()
    await expectGrowth(before, 'edgehub_proxy_requests_total', { kind: 'hub', code: '2xx' }, 1)

    const anonymous = await fetch(`${stack.url}/user/ada/api/status`, { redirect: 'manual' })
    expect(anonymous.status).toBe(401) // an API path: JSON, not a redirect to the login
    await anonymous.body?.cancel()
    await expectGrowth(before, 'edgehub_proxy_auth_failures_total', { reason: 'login_required' }, 1)

    const bob = await person(root, 'bob')
    const other = await fetch(`${stack.url}/user/ada/api/status`, { headers: bob.auth, redirect: 'manual' })
    expect(other.status).toBe(403)
    await other.body?.cancel()
    await expectGrowth(before, 'edgehub_proxy_auth_failures_total', { reason: 'forbidden' }, 1)
  })

  it('counts a server that does not answer as an upstream error', async () => {
    // a route to a port nothing listens on, as a server that died leaves it until the hub's next check
    const version = await stack.tables.set('routes', '/user/ada/gone/', {
      kind: 'user',
      target: `127.0.0.1:${await freePort()}`,
      user: 'ada',
      server: 'gone',
    })
    await waitFor(
      'the proxy to apply the route',
      async () => count(await scrape(), 'edgehub_proxy_sync_version', {}) >= version,
      { timeoutMs: 10_000, intervalMs: 50 },
    )
    const before = await scrape()
    const res = await fetch(`${stack.url}/user/ada/gone/api/status`, { headers: ada.auth })
    expect(res.status).toBeGreaterThanOrEqual(500)
    await res.body?.cancel()
    await expectGrowth(before, 'edgehub_proxy_upstream_errors_total', { kind: 'server' }, 1)
    await expectGrowth(before, 'edgehub_proxy_requests_total', { kind: 'server', code: '5xx' }, 1)
  })

  it('reports the sync state, the routes held, shared-dict use and activity flushes', async () => {
    const version = Number(await stack.state.get(stack.keys.proxyVersion))
    await waitFor(
      'the proxy to apply the current tables version',
      async () => {
        const s = await scrape()
        return count(s, 'edgehub_proxy_sync_version', {}) >= version
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    )
    const s = await scrape()
    expect(count(s, 'edgehub_proxy_synced', {})).toBe(1)
    expect(count(s, 'edgehub_proxy_redis_connected', {})).toBe(1)
    expect(count(s, 'edgehub_proxy_table_entries', { table: 'routes' })).toBeGreaterThanOrEqual(1)
    expect(count(s, 'edgehub_proxy_shared_dict_capacity_bytes', { dict: 'edgehub' })).toBeGreaterThan(1_000_000)
    expect(count(s, 'edgehub_proxy_shared_dict_free_bytes', { dict: 'edgehub_metrics' })).toBeGreaterThan(0)
    // flushes every second (activityFlushSec: 1), each one counted
    const flushes = count(s, 'edgehub_proxy_activity_flushes_total', { result: 'ok' })
    await waitFor(
      'another activity flush',
      async () => count(await scrape(), 'edgehub_proxy_activity_flushes_total', { result: 'ok' }) > flushes,
      { timeoutMs: 10_000, intervalMs: 200 },
    )
  })

  it('listens on loopback only, and the public port does not serve the metrics', async () => {
    await expect(fetch(`http://127.0.0.2:${metricsPort}/metrics`)).rejects.toThrow()
    const pub = await fetch(`${stack.url}/metrics`)
    expect(await pub.text()).not.toContain('edgehub_proxy_')
    const other = await fetch(`http://127.0.0.1:${metricsPort}/_edgehub/proxy/health`)
    expect(other.status).toBe(404)
    await other.body?.cancel()
  })
})
