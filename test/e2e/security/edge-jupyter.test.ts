// Cross-origin requests against a real Jupyter server behind the proxy (which presents the server's
// token, so Jupyter checks no XSRF or Origin itself). First as curl would send them, then in headless
// Chromium logged in as alice: a page on another loopback port (another origin, the same site, so the
// SameSite=Lax session cookie rides along) tries to start a kernel and to open a kernel's WebSocket
// on her server; the proxy refuses both. Her own page, on the hub's origin, does both.
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { startStack, type Stack } from '../../support/stack'
import { launchBrowser } from '../../support/browser'
import { json } from '../../support/client'
import { person, rootOf, startServer, type Admin } from '../../support/people'
import NodeWebSocket from 'ws'
import { freePort } from '../../../runtime/src/ports'
import { http } from '../../proxy/harness'
import { waitFor } from '../../../runtime/src/wait'

let stack: Stack
let browser: Browser
let alice: Admin
let context: BrowserContext
let evil: Server
let evilUrl: string

beforeAll(async () => {
  ;[stack, browser] = await Promise.all([startStack(), launchBrowser()])
  const root = await rootOf(stack)
  alice = await person(root, 'alice')
  await startServer(stack.url, alice.token, 'alice')
  const port = await freePort()
  evil = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end('<!doctype html><title>another site</title><p>nothing to see</p>')
  })
  await new Promise<void>((resolve) => evil.listen(port, '127.0.0.1', resolve))
  evilUrl = `http://127.0.0.1:${port}/`

  context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(`${stack.url}/hub/login`)
  await page.fill('#username', 'alice')
  await page.fill('#password', alice.password)
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/hub/login')), page.click('#login_submit')])
  await page.close()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await new Promise((resolve) => (evil ? evil.close(resolve) : resolve(undefined)))
  await stack?.stop()
})

/** The proxy's access log (JSON lines). */
const accessLog = (): { uri: string; status: number; user: string }[] =>
  readFileSync(join(stack.dir, 'proxy', 'logs', 'access.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))

const kernelsUrl = () => `${stack.url}/user/alice/api/kernels`
async function kernelIds(): Promise<string[]> {
  const r = await fetch(kernelsUrl(), { headers: alice.auth })
  expect(r.status).toBe(200)
  return ((await json(r)) as { id: string }[]).map((k) => k.id)
}

type FetchMode = 'no-cors' | 'cors' | 'same-origin'

/**
 * Runs action in the page and returns it with the HTTP statuses that came back on the wire for
 * requests with `method` to URLs containing urlPart (Chromium's own view through CDP: also for
 * answers that CORS hides from the page, and for WebSocket handshakes). The page's own requests
 * (Jupyter's pages poll the kernels list with GET) are told apart by method. CDP may report a
 * status before the request it belongs to, and after the page's promise settled: both are kept by
 * request id and matched at the end.
 */
async function onTheWire<T>(
  page: Page,
  urlPart: string,
  method: string,
  answers: number,
  action: () => Promise<T>,
): Promise<{ result: T; wire: number[] }> {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  const requests = new Map<string, { url: string; method: string }>()
  const statuses = new Map<string, number>()
  cdp.on('Network.requestWillBeSent', (e) =>
    requests.set(e.requestId, { url: e.request.url, method: e.request.method }),
  )
  cdp.on('Network.responseReceivedExtraInfo', (e) => statuses.set(e.requestId, e.statusCode))
  cdp.on('Network.webSocketCreated', (e) => requests.set(e.requestId, { url: e.url, method: 'GET' }))
  cdp.on('Network.webSocketHandshakeResponseReceived', (e) => statuses.set(e.requestId, e.response.status))
  const wire = () =>
    [...statuses]
      .filter(([id]) => requests.get(id)?.url.includes(urlPart) && requests.get(id)?.method === method)
      .map(([, status]) => status)
  const result = await action()
  await waitFor(`${answers} answer(s) for ${method} ${urlPart} on the wire`, () => wire().length >= answers, {
    timeoutMs: 10_000,
    intervalMs: 20,
  })
  await cdp.detach()
  return { result, wire: wire() }
}

/** POSTs from the page to start a kernel: the status the page's fetch saw (0 when opaque) or 'blocked'. */
function postKernel(page: Page, mode: FetchMode) {
  return onTheWire(page, '/user/alice/api/kernels', 'POST', 1, () =>
    page.evaluate(
      ([url, m]) =>
        fetch(url, { method: 'POST', mode: m as FetchMode, credentials: 'include', body: '{}' }).then(
          (r): number | string => r.status,
          () => 'blocked',
        ),
      [kernelsUrl(), mode],
    ),
  )
}

/**
 * Opens a kernel's WebSocket from the page: 'open', or 'refused' when it closed without opening.
 * answers: the handshake answers to wait for on the wire (a refused one has no CDP event).
 */
function openSocket(page: Page, id: string, answers: number) {
  const url = `${stack.url.replace('http', 'ws')}/user/alice/api/kernels/${id}/channels`
  return onTheWire(page, `/api/kernels/${id}/channels`, 'GET', answers, () =>
    page.evaluate(
      (u) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(u)
          ws.onopen = () => {
            ws.close()
            resolve('open')
          }
          ws.onclose = () => resolve('refused')
        }),
      url,
    ),
  )
}

describe("requests with alice's session cookie, as curl sends them", () => {
  const cookie = () => `edgehub-session=${alice.client.jar.get('edgehub-session')}`
  const start = (headers: Record<string, string>) =>
    http(kernelsUrl(), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' })

  it('refuses POST /user/alice/api/kernels from a foreign Origin and creates no kernel; takes it from her own', async () => {
    const before = await kernelIds()
    const refused = await start({ cookie: cookie(), origin: 'http://evil.example' })
    expect(refused.status).toBe(403)
    expect(refused.json().message).toMatch(/cross-origin/)
    expect(await kernelIds()).toEqual(before)
    const created = await start({ cookie: cookie(), origin: stack.url })
    expect(created.status).toBe(201)
    expect(await kernelIds()).toContain(created.json().id)
  })

  it('refuses a kernel WebSocket with a foreign Origin, opens it with her own', async () => {
    const created = await start({ authorization: `token ${alice.token}` })
    expect(created.status).toBe(201)
    const url = `${stack.url.replace('http', 'ws')}/user/alice/api/kernels/${created.json().id}/channels`
    const handshake = (origin: string) =>
      new Promise<number>((resolve, reject) => {
        const ws = new NodeWebSocket(url, { headers: { cookie: cookie(), origin } })
        ws.once('open', () => (ws.close(), resolve(101)))
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
        ws.once('error', reject)
      })
    expect(await handshake('http://evil.example')).toBe(403)
    expect(await handshake(stack.url)).toBe(101)
  })

  it('lets a token request with a foreign Origin through', async () => {
    const r = await start({ authorization: `token ${alice.token}`, origin: 'http://evil.example' })
    expect(r.status).toBe(201)
  })
})

describe("a page of another origin, in alice's logged-in browser", () => {
  it('cannot start a kernel on her server, by a simple (no-cors) POST or a CORS one', async () => {
    const before = await kernelIds()
    const page = await context.newPage()
    await page.goto(evilUrl)
    // the simple POST a form or an image could send, and a CORS one: both reach the network
    expect(await postKernel(page, 'no-cors')).toEqual({ result: 0, wire: [403] })
    expect(await postKernel(page, 'cors')).toEqual({ result: 'blocked', wire: [403] })
    await page.close()
    expect(await kernelIds()).toEqual(before)
  })

  it("cannot open a kernel's WebSocket on her server", async () => {
    const r = await fetch(kernelsUrl(), {
      method: 'POST',
      headers: { ...alice.auth, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(r.status).toBe(201)
    const { id } = (await json(r)) as { id: string }
    const page = await context.newPage()
    await page.goto(evilUrl)
    expect((await openSocket(page, id, 0)).result).toBe('refused')
    // a refused handshake has no CDP event of its own: the proxy's access log says who refused it
    await waitFor(
      'the proxy to log the refused handshake',
      () =>
        accessLog().some(
          (l) => l.uri === `/user/alice/api/kernels/${id}/channels` && l.status === 403 && l.user === 'alice',
        ),
      { timeoutMs: 5000 },
    )
    expect(
      accessLog()
        .filter((l) => l.uri === `/user/alice/api/kernels/${id}/channels`)
        .map((l) => l.status),
    ).toEqual([403])
    await page.close()
  })
})

describe("alice's own page on the hub's origin", () => {
  it('starts a kernel and opens its WebSocket', async () => {
    const page = await context.newPage()
    await page.goto(`${stack.url}/user/alice/tree`)
    expect(new URL(page.url()).pathname).toBe('/user/alice/tree')
    const before = await kernelIds()
    expect(await postKernel(page, 'same-origin')).toEqual({ result: 201, wire: [201] })
    const after = await kernelIds()
    const added = after.filter((id) => !before.includes(id))
    expect(added).toHaveLength(1)
    expect(await openSocket(page, added[0], 1)).toEqual({ result: 'open', wire: [101] })
    await page.close()
  })
})
