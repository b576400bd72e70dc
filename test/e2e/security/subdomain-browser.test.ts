// Per-user hosts (subdomainHost) in headless Chromium against a real Jupyter server. The hub is at
// http://hub.localhost:PORT and alice's server at http://alice.hub.localhost:PORT: Chromium resolves
// every *.localhost name to loopback itself, nested ones too. An admin (proxy.adminAccess) opens
// alice's server through the hand-off and runs code there; a script on alice's pages, running in the
// admin's browser, then tries what such a script can do on the hub's origin: read a hub page
// for an XSRF token, mint a token as the visitor, make alice admin. It cannot: the hub is another
// origin, its answers are unreadable and its API refuses the writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { startStack, type Stack } from '../../support/stack'
import { launchBrowser } from '../../support/browser'
import { json } from '../../support/client'
import { person, rootOf, startServer, type Admin } from '../../support/people'
import { http } from '../../proxy/harness'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'

// what the page-side functions below use of the browser (this project's TypeScript has no DOM types)
interface Frame {
  src: string
  onload: (() => void) | null
  contentDocument: { body?: { innerHTML?: string } } | null
}
declare const document: { cookie: string; createElement(tag: 'iframe'): Frame; body: { append(el: Frame): void } }
declare const location: { origin: string }

let stack: Stack
let browser: Browser
let root: Admin
let alice: Admin
let hub: string
let aliceUrl: string
let bobUrl: string

beforeAll(async () => {
  const port = await freePort()
  hub = `http://hub.localhost:${port}`
  aliceUrl = `http://alice.hub.localhost:${port}`
  bobUrl = `http://bob.hub.localhost:${port}`
  ;[stack, browser] = await Promise.all([
    startStack({ port, subdomainHost: hub, proxy: { adminAccess: true } }),
    launchBrowser(),
  ])
  root = await rootOf(stack)
  ;[alice] = await Promise.all([person(root, 'alice'), person(root, 'bob')])
  await startServer(stack.url, alice.token, 'alice')
  await waitFor(
    "alice's Jupyter server on her host",
    async () => {
      const r = await http(`${stack.url}/user/alice/api/status`, {
        headers: { host: new URL(aliceUrl).host, authorization: `token ${alice.token}` },
      })
      return r.status === 200
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  )
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await stack?.stop()
})

/** A new browser logged in at the hub's host as name. */
async function loggedIn(name: string, password: string): Promise<BrowserContext> {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(`${hub}/hub/login`)
  await page.fill('#username', name)
  await page.fill('#password', password)
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/hub/login')), page.click('#login_submit')])
  await page.close()
  return context
}

/** Runs print(code) in a new kernel from the page, over its WebSocket: the output. */
function runInKernel(page: Page, code: string): Promise<string> {
  return page.evaluate(async (src) => {
    const r = await fetch('/user/alice/api/kernels', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    })
    if (r.status !== 201) return `kernel start: ${r.status}`
    const { id } = (await r.json()) as { id: string }
    const ws = new WebSocket(`${location.origin.replace('http', 'ws')}/user/alice/api/kernels/${id}/channels`)
    const msgId = crypto.randomUUID()
    return new Promise<string>((resolve) => {
      let out = ''
      ws.onerror = () => resolve('websocket error')
      ws.onopen = () =>
        ws.send(
          JSON.stringify({
            header: {
              msg_id: msgId,
              username: 'x',
              session: crypto.randomUUID(),
              msg_type: 'execute_request',
              version: '5.3',
              date: new Date().toISOString(),
            },
            parent_header: {},
            metadata: {},
            buffers: [],
            channel: 'shell',
            content: {
              code: src,
              silent: false,
              store_history: false,
              user_expressions: {},
              allow_stdin: false,
              stop_on_error: true,
            },
          }),
        )
      ws.onmessage = (ev) => {
        const msg = JSON.parse(ev.data)
        if (msg.parent_header?.msg_id !== msgId) return
        if (msg.header.msg_type === 'stream') out += msg.content.text
        if (msg.header.msg_type === 'status' && msg.content.execution_state === 'idle') {
          ws.close()
          resolve(out)
        }
      }
    })
  }, code)
}

const tokenIds = async (name: string) =>
  (
    (await json(await fetch(`${stack.url}/hub/api/users/${name}/tokens`, { headers: root.auth }))).api_tokens as {
      id: string
    }[]
  )
    .map((t) => t.id)
    .sort()

describe("an admin opening alice's server", () => {
  let context: BrowserContext
  let page: Page

  beforeAll(async () => {
    context = await loggedIn('root', root.password)
    page = await context.newPage()
  })
  afterAll(async () => {
    await context?.close()
  })

  it("lands on alice's host through the hand-off, and runs code there", async () => {
    await page.goto(`${hub}/user/alice/`)
    const at = new URL(page.url())
    expect(at.origin).toBe(aliceUrl)
    expect(at.pathname).toMatch(/^\/user\/alice\//)
    expect(await runInKernel(page, 'print(6 * 7)')).toBe('42\n')
    const cookies = await context.cookies(aliceUrl)
    const host = cookies.find((c) => c.name === 'edgehub-host-session')!
    expect(host).toMatchObject({ domain: new URL(aliceUrl).hostname, httpOnly: true, sameSite: 'Lax', path: '/' })
    // the hub's cookies are the hub host's alone
    expect(cookies.map((c) => c.name)).not.toContain('edgehub-session')
  })

  it("gives alice's page script nothing of the hub: no cookies, no readable page, no API call as the visitor", async () => {
    await page.goto(`${aliceUrl}/user/alice/tree`)
    const rootTokens = await tokenIds('root')
    const attempt = await page.evaluate(async (hubUrl) => {
      const read = (url: string, init: RequestInit = {}) =>
        fetch(url, { credentials: 'include', ...init }).then(
          async (r) => `read ${r.status} ${(await r.text()).slice(0, 40)}`,
          () => 'blocked',
        )
      // an iframe of a hub page: another origin, its document out of reach
      const frame = document.createElement('iframe')
      frame.src = `${hubUrl}/hub/token`
      document.body.append(frame)
      await new Promise<void>((resolve) => {
        frame.onload = () => resolve()
        setTimeout(resolve, 3000)
      })
      let framed: string
      try {
        framed = `read ${frame.contentDocument?.body?.innerHTML?.slice(0, 40) ?? 'nothing'}`
      } catch {
        framed = 'blocked'
      }
      return {
        cookies: document.cookie,
        tokenPage: await read(`${hubUrl}/hub/token`),
        tokenPageHere: await read('/hub/token'),
        apiHere: await read('/hub/api/user'),
        framed,
        // the attack's writes, as simple requests a page may send anywhere (answers opaque)
        mint: await read(`${hubUrl}/hub/api/users/root/tokens`, {
          method: 'POST',
          mode: 'no-cors',
          body: '{"note":"x"}',
          headers: { 'content-type': 'text/plain' },
        }),
        promote: await read(`${hubUrl}/hub/api/users/alice`, {
          method: 'PATCH',
          body: '{"admin":true}',
          headers: { 'content-type': 'application/json' },
        }),
      }
    }, hub)
    // the server's own cookies only (Jupyter's _xsrf): none of the hub's, and the host cookie is HttpOnly
    expect(attempt.cookies).not.toMatch(/edgehub/)
    expect(attempt.tokenPage).toBe('blocked')
    expect(attempt.tokenPageHere).toBe('blocked')
    expect(attempt.apiHere).toBe('blocked')
    expect(attempt.framed).toMatch(/^(blocked|read nothing)$/)
    expect(attempt.mint).toBe('read 0 ')
    expect(attempt.promote).toBe('blocked')
    expect(await tokenIds('root')).toEqual(rootTokens)
    expect((await json(await fetch(`${stack.url}/hub/api/users/alice`, { headers: root.auth }))).admin).toBe(false)
  })

  it("does not serve hub pages on alice's host: they open on the hub's", async () => {
    await page.goto(`${aliceUrl}/hub/home`)
    expect(new URL(page.url()).origin).toBe(hub)
    expect(new URL(page.url()).pathname).toBe('/hub/home')
    const r = await page.goto(`${aliceUrl}/`)
    expect(r?.status()).toBe(404)
  })
})

describe('the host cookie', () => {
  it("is refused on bob's host: a browser holding only alice's is sent to log in there", async () => {
    const admin = await loggedIn('root', root.password)
    const page = await admin.newPage()
    await page.goto(`${aliceUrl}/user/alice/tree`)
    expect(new URL(page.url()).origin).toBe(aliceUrl)
    const cookie = (await admin.cookies(aliceUrl)).find((c) => c.name === 'edgehub-host-session')!
    await admin.close()

    const other = await browser.newContext()
    await other.addCookies([
      { name: cookie.name, value: cookie.value, domain: new URL(aliceUrl).hostname, path: '/' },
      { name: cookie.name, value: cookie.value, domain: new URL(bobUrl).hostname, path: '/' },
    ])
    const p = await other.newPage()
    // on alice's host it is the admin's login
    const ok = await p.goto(`${aliceUrl}/user/alice/api/status`)
    expect(ok?.status()).toBe(200)
    // and an API call with it on bob's host is not logged in
    const api = await p.goto(`${bobUrl}/user/bob/api/status`)
    expect(api?.status()).toBe(401)
    // on bob's host it is nobody: hand-off, then the hub's login page
    await p.goto(`${bobUrl}/user/bob/tree`)
    expect(new URL(p.url()).origin).toBe(hub)
    expect(new URL(p.url()).pathname).toBe('/hub/login')
    await other.close()
  })

  it('ends with the hub session at logout', async () => {
    const context = await loggedIn('alice', alice.password)
    const page = await context.newPage()
    await page.goto(`${hub}/user/alice/tree`)
    expect(page.url()).toBe(`${aliceUrl}/user/alice/tree`)
    await page.goto(`${hub}/hub/logout`)
    // the host cookie stays in the browser, and the proxy refuses it: through the hand-off to the login page
    expect((await context.cookies(aliceUrl)).map((c) => c.name)).toContain('edgehub-host-session')
    await waitFor(
      'the logout to reach the proxy',
      async () => {
        await page.goto(`${aliceUrl}/user/alice/tree`)
        return new URL(page.url()).pathname === '/hub/login'
      },
      { timeoutMs: 5000, intervalMs: 50 },
    )
    expect(new URL(page.url()).origin).toBe(hub)
    await context.close()
  })

  it('is not set from a forged or expired hand-off', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    const forged = `h1.k.${Buffer.from('alice').toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAA.9999999999.${Buffer.from(new URL(aliceUrl).host).toString('base64url')}.9999999999.${'A'.repeat(43)}`
    const r = await page.goto(`${aliceUrl}/_edgehub/handoff?t=${forged}&next=%2Fuser%2Falice%2F`)
    expect(r?.status()).toBe(400)
    expect(await page.textContent('h1')).toMatch(/invalid/)
    expect(await context.cookies(aliceUrl)).toEqual([])
    await context.close()
  })
})
