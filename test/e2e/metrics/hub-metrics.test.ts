// GET /hub/metrics after a known workload: logins, a spawn and a stop, counted exactly; the scope
// it needs (read:metrics), and hub.authenticatePrometheus: false, which serves it to anyone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { person, rootOf, startServer, stopServer, type Admin } from '../../support/people'
import { okServerSpawner } from '../../support/servers'
import { removeAccounts, testPrefix } from '../../support/accounts'
import { parseExposition, sampleValue } from './scrape'

const prefix = testPrefix()
let stack: Stack
let root: Admin
let people: Admin[]
const LOGINS = 3

beforeAll(async () => {
  stack = await startStack({
    spawner: { ...okServerSpawner(), 'local-process': { ...okServerSpawner()['local-process'], userPrefix: prefix } },
  })
  root = await rootOf(stack)
  people = []
  for (let i = 0; i < LOGINS; i++) people.push(await person(root, `metrics${i}`))
}, 120_000)
afterAll(async () => {
  await stack?.stop()
  expect(removeAccounts(prefix)).toEqual([])
}, 60_000)

const scrape = async (headers: Record<string, string> = root.auth) => fetch(`${stack.url}/hub/metrics`, { headers })

describe('GET /hub/metrics', () => {
  it('counts logins, a spawn and a stop exactly, and the users and servers in Redis', async () => {
    const before = parseExposition(await (await scrape()).text())
    const logins = sampleValue(before, 'jupyterhub_request_duration_seconds_count', {
      method: 'POST',
      handler: '/hub/login',
      code: '302',
    })
    expect(logins).toBe(LOGINS + 1) // root and each person, through the login form
    expect(sampleValue(before, 'jupyterhub_total_users')).toBe(LOGINS + 1)
    expect(sampleValue(before, 'jupyterhub_active_users', { period: '1h' })).toBe(LOGINS + 1)
    expect(sampleValue(before, 'jupyterhub_active_users', { period: '30d' })).toBe(LOGINS + 1)
    expect(sampleValue(before, 'edgehub_hub_leader')).toBe(1)
    expect(sampleValue(before, 'edgehub_redis_up')).toBe(1)

    const who = people[0]
    const spawned = sampleValue(before, 'jupyterhub_server_spawn_duration_seconds_count', { status: 'success' }) ?? 0
    const stopped = sampleValue(before, 'jupyterhub_server_stop_seconds_count', { status: 'success' }) ?? 0
    await startServer(stack.url, who.token, who.name)
    const running = parseExposition(await (await scrape()).text())
    expect(sampleValue(running, 'jupyterhub_server_spawn_duration_seconds_count', { status: 'success' })).toBe(
      spawned + 1,
    )
    expect(sampleValue(running, 'jupyterhub_running_servers')).toBe(1)
    expect(sampleValue(running, 'edgehub_proxy_routes')).toBeGreaterThanOrEqual(1)

    await stopServer(stack.url, who.token, who.name)
    const after = parseExposition(await (await scrape()).text())
    expect(sampleValue(after, 'jupyterhub_server_stop_seconds_count', { status: 'success' })).toBe(stopped + 1)
    expect(sampleValue(after, 'jupyterhub_running_servers')).toBe(0)
    // the route pattern, never the user's name, labels a request
    expect(after.some((s) => s.labels.handler?.includes(who.name))).toBe(false)
  })

  it('needs read:metrics: 403 without credentials and with a token that lacks it', async () => {
    const anonymous = await fetch(`${stack.url}/hub/metrics`)
    expect(anonymous.status).toBe(403)
    await anonymous.body?.cancel()
    const user = await scrape(people[1].auth) // a user's full token: the user role has no read:metrics
    expect(user.status).toBe(403)
    await user.body?.cancel()
    const ok = await scrape()
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(await ok.text()).toContain('# TYPE jupyterhub_request_duration_seconds histogram')
    // JupyterHub's second path, with its API errors as JSON
    const api = await fetch(`${stack.url}/hub/api/metrics`, { headers: root.auth })
    expect(api.status).toBe(200)
    expect(await api.text()).toContain('# TYPE jupyterhub_total_users gauge')
    const apiAnonymous = await fetch(`${stack.url}/hub/api/metrics`)
    expect(apiAnonymous.status).toBe(403)
    expect(await apiAnonymous.json()).toMatchObject({ status: 403 })
  })
})

describe('hub.authenticatePrometheus: false', () => {
  let open: Stack
  beforeAll(async () => {
    open = await startStack({ hub: { authenticatePrometheus: false } })
  }, 120_000)
  afterAll(async () => open?.stop(), 60_000)

  it('serves the metrics without credentials', async () => {
    const res = await fetch(`${open.url}/hub/metrics`)
    expect(res.status).toBe(200)
    expect(sampleValue(parseExposition(await res.text()), 'jupyterhub_total_users')).toBe(0)
  })
})
