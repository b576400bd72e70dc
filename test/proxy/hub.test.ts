// The edge proxy in front of the hub: /hub/, / and unrouted paths; hub outages; health.
import { createServer as createNetServer, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../runtime/src/ports'
import { waitFor } from '../../runtime/src/wait'
import { http, startFakeServer, startStack, userRoute, type FakeServer, type Stack } from './harness'

let stack: Stack
let alice: FakeServer

beforeAll(async () => {
  stack = await startStack()
  alice = await startFakeServer('alice')
  await stack.tables.set('routes', '/user/alice/', userRoute('alice', alice.target, 'alice-secret'))
  const v = await stack.tables.version()
  await waitFor(
    'proxy synced',
    async () => (await http(`${stack.proxy.url}/_edgehub/proxy/health`)).json().version === v,
  )
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
  let hubB: FakeServer
  const stacks: Stack[] = []

  beforeAll(async () => {
    hubB = await startFakeServer('hub-b')
  })

  afterAll(async () => {
    for (const s of stacks) await s.stop()
    await hubB?.close()
  })

  /** A proxy whose hub upstreams are `first` (listed first, so each worker tries it first) and hub-b. */
  async function proxyWith(first: string) {
    const s = await startStack({ proxy: { hubUpstreams: [first, hubB.target] } })
    stacks.push(s)
    return s
  }

  it('sends requests to the next replica when one is not listening: 20 of 20 GETs succeed, POSTs too', async () => {
    const dead = await startFakeServer('dead')
    await dead.close()
    const s = await proxyWith(dead.target)
    for (let i = 0; i < 20; i++) {
      const r = await http(`${s.proxy.url}/hub/home?i=${i}`)
      expect(r.status).toBe(200)
      expect(r.json().server).toBe('hub-b')
    }
    // a refused connection never carried the request, so even a POST may go to the next replica
    for (let i = 0; i < 5; i++) {
      const r = await http(`${s.proxy.url}/hub/api/users/x/server?i=${i}`, { method: 'POST', body: '{}' })
      expect(r.status).toBe(200)
      expect(r.json().method).toBe('POST')
    }
  })

  it('retries GETs when a replica resets the connection mid-request, but never sends a POST twice', async () => {
    const reset = await startResettingServer()
    try {
      const s = await proxyWith(reset.target)
      for (let i = 0; i < 20; i++) {
        const r = await http(`${s.proxy.url}/hub/api/users?get=${i}`)
        expect(r.status).toBe(200)
        expect(r.json().url).toBe(`/hub/api/users?get=${i}`)
      }
      expect(reset.seen.some((l) => l.startsWith('GET /hub/api/users?get='))).toBe(true)

      // max_fails=1 fail_timeout=1s: once the bad replica failed, requests go to hub-b for 1 s;
      // keep posting until one of them lands on the bad replica
      const outcomes: Array<{ id: number; status: number }> = []
      await waitFor(
        'a POST sent to the resetting replica',
        async () => {
          const id = outcomes.length
          const r = await http(`${s.proxy.url}/hub/api/users/x/server?post=${id}`, { method: 'POST', body: '{}' })
          outcomes.push({ id, status: r.status })
          return reset.seen.some((l) => l.includes(`?post=${id} `))
        },
        { timeoutMs: 15_000, intervalMs: 200 },
      )
      for (const { id, status } of outcomes) {
        const atBad = reset.seen.some((l) => l.includes(`?post=${id} `))
        const atGood = hubB.seen.some((r) => r.method === 'POST' && r.url.endsWith(`?post=${id}`))
        expect(atBad && atGood, `POST ${id} reached both replicas`).toBe(false)
        expect(status).toBe(atBad ? 503 : 200) // not retried: the hub-down page
      }
    } finally {
      await reset.close()
    }
  })
})

/** A "hub replica" that reads the request line and then resets the connection (RST). */
async function startResettingServer() {
  const seen: string[] = []
  const sockets = new Set<Socket>()
  const server = createNetServer((sock) => {
    sockets.add(sock)
    sock.on('close', () => sockets.delete(sock))
    sock.on('error', () => {})
    sock.once('data', (d: Buffer) => {
      seen.push(d.toString('latin1').split('\r\n')[0])
      sock.resetAndDestroy()
    })
  })
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {
    target: `127.0.0.1:${port}`,
    /** Request lines received, e.g. "GET /hub/home HTTP/1.1". */
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
