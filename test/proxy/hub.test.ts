// The edge proxy in front of the hub: /hub/, / and unrouted paths; hub outages; health.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../control-plane/src/util/wait'
import { http, startFakeServer, startStack, userRoute, type FakeServer, type Stack } from './harness'

let stack: Stack
let alice: FakeServer

beforeAll(async () => {
  stack = await startStack()
  alice = await startFakeServer('alice')
  await stack.tables.set('routes', '/user/alice/', userRoute('alice', alice.target, 'alice-secret'))
  const v = await stack.tables.version()
  await waitFor('proxy synced', async () => (await http(stack.proxy.url + '/_edgehub/proxy/health')).json().version === v)
})

afterAll(async () => {
  await stack?.stop()
  await alice?.close()
})

const get = (path: string, headers: Record<string, string> = {}) => http(stack.proxy.url + path, { headers })

describe('proxy: hub paths', () => {
  it.each(['/hub/home', '/hub/api/users?limit=1', '/', '/favicon.ico', '/_edgehub/other'])(
    'sends %s to the hub upstream as is',
    async (path) => {
      const r = await get(path)
      expect(r.status).toBe(200)
      expect(r.json().server).toBe('hub')
      expect(r.json().url).toBe(path)
    },
  )

  it('passes the session cookie and Authorization to the hub untouched', async () => {
    const cookie = `edgehub-session=${stack.cookie('alice')}; edgehub-xsrf=x`
    const r = await get('/hub/api/user', { cookie, authorization: 'token abc' })
    expect(r.json().headers.cookie).toBe(cookie)
    expect(r.json().headers.authorization).toBe('token abc')
  })

  it('strips client identity headers on the way to the hub too', async () => {
    const r = await get('/hub/home', { 'remote-user': 'root', 'x-remote-user': 'root', 'x-edgehub-user': 'root' })
    expect(r.json().headers['remote-user']).toBeUndefined()
    expect(r.json().headers['x-remote-user']).toBeUndefined()
    expect(r.json().headers['x-edgehub-user']).toBeUndefined()
    expect(r.json().headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/)
  })
})

describe('proxy: health', () => {
  it('answers 200 JSON with the synced version', async () => {
    const v = await stack.tables.version()
    const r = await get('/_edgehub/proxy/health')
    expect(r.status).toBe(200)
    expect(r.json()).toMatchObject({ status: 'ok', synced: true, version: v })
  })
})

describe('proxy: hub outage', () => {
  it('answers 503 for /hub/ while /user/ keeps working, and recovers', async () => {
    const port = stack.hub.port
    await stack.hub.close()
    try {
      const cookie = `edgehub-session=${stack.cookie('alice')}`
      const page = await get('/hub/home', { cookie, accept: 'text/html' })
      expect(page.status).toBe(503)
      expect(page.headers['content-type']).toContain('text/html')
      expect(page.body).toContain('The hub is temporarily unavailable; your running server keeps working')
      expect(page.body).toContain('/user/alice/')

      const api = await get('/hub/api/users')
      expect(api.status).toBe(503)
      expect(api.json()).toEqual({ status: 503, message: 'the hub is temporarily unavailable' })

      const user = await get('/user/alice/lab', { cookie })
      expect(user.status).toBe(200)
      expect(user.json().server).toBe('alice')
    } finally {
      stack.hub = await startFakeServer('hub', port)
    }
    await waitFor('hub back', async () => (await get('/hub/home')).status === 200, { timeoutMs: 5000 })
  })
})

describe('proxy: several hub replicas', () => {
  let multi: Stack
  let hubB: FakeServer
  let deadPort: number

  beforeAll(async () => {
    hubB = await startFakeServer('hub-b')
    const dead = await startFakeServer('dead')
    deadPort = dead.port
    await dead.close()
    multi = await startStack({ proxy: { hubUpstreams: [`127.0.0.1:${deadPort}`, hubB.target] } })
  })

  afterAll(async () => {
    await multi?.stop()
    await hubB?.close()
  })

  it('retries an idempotent request on the next replica when one is down', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await http(multi.proxy.url + '/hub/home')
      expect(r.status).toBe(200)
      expect(r.json().server).toBe('hub-b')
    }
  })
})
