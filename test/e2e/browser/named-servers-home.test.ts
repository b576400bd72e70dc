// The home page as a person uses it, in Chromium, from the login page on: the default and named
// servers with their state and last activity; a named server created by name, stopped (the stop
// pending shown, then followed to "stopped" without a reload), started again, opened and deleted;
// a start pending shown and followed to "running"; the page used with the keyboard alone; and
// another site's form post (no XSRF field) stops and deletes nothing. Each state is scanned for
// accessibility and kept as a screenshot.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { startStack, type Stack } from '../../support/stack'
import { launchBrowser } from '../../support/browser'
import { logInInBrowser } from '../../support/browser-login'
import { accessibilityViolations, screenshot } from '../../support/page-check'
import { gatedSpawner } from '../../support/servers'
import { person, rootOf, startServer, type Admin } from '../../support/people'

/** OK_SERVER that ignores SIGTERM: its stop takes the spawner's grace period, so the stop is seen pending. */
const STUBBORN_SERVER = `
import http.server, signal, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
`

let browser: Browser
let stack: Stack
let root: Admin
let gates: string
const gate = (user: string) => join(gates, `gate-${user}`)
const open = (user: string) => writeFileSync(gate(user), '')

beforeAll(async () => {
  gates = mkdtempSync(join(tmpdir(), 'edgehub-gates-'))
  chmodSync(gates, 0o755) // the servers run as the users' accounts
  browser = await launchBrowser()
  stack = await startStack({
    hub: { allowNamedServers: true },
    spawner: { ...gatedSpawner(join(gates, 'gate-{user}'), STUBBORN_SERVER), stopGraceSec: 4 },
  })
  root = await rootOf(stack)
})
afterAll(async () => {
  await browser?.close()
  await stack?.stop()
  rmSync(gates, { recursive: true, force: true })
})

const home = (page: Page) => page.goto(`${stack.url}/hub/home`)
const row = (page: Page, server: string) => page.locator(`#named-servers tr[data-server="${server}"]`)

async function checked(page: Page, name: string) {
  expect(await accessibilityViolations(page)).toEqual([])
  await screenshot(page, `home-${name}`)
}

describe('named servers on the home page', () => {
  it('creates, opens, stops (pending, then stopped), starts and deletes a named server', async () => {
    const ada = await person(root, 'ada')
    open('ada')
    const page = await logInInBrowser(browser, stack.url, ada, '/hub/home')
    expect(new URL(page.url()).pathname).toBe('/hub/home')
    expect(await page.locator('#server-status').innerText()).toBe('stopped')
    expect(await page.locator('#named-servers').innerText()).toContain('You have no named servers.')
    await checked(page, 'empty')

    // a name that is not a new server's: the hub's readable page (the browser's own check bypassed)
    await page.locator('#server_name').evaluate((el) => el.removeAttribute('pattern'))
    await page.fill('#server_name', 'Bad Name')
    await page.click('#add-server')
    await page.waitForURL(/\/hub\/home$/)
    expect(await page.locator('main').innerText()).toContain('Invalid server name "Bad Name"')
    expect(await stack.serverRecords('ada')).toEqual([])

    await home(page)
    await page.fill('#server_name', 'lab')
    await page.click('#add-server')
    await page.waitForURL(/\/user\/ada\/lab\/$/, { timeout: 30_000 })
    expect(await page.locator('body').innerText()).toBe('ok')

    await home(page)
    expect(await row(page, 'lab').locator('.status').innerText()).toBe('running')
    expect(await row(page, 'lab').locator('time').count()).toBe(1) // last activity: the start at least
    expect(await row(page, 'lab').getByRole('link', { name: 'Open lab' }).getAttribute('href')).toBe('/user/ada/lab/')
    await checked(page, 'named-running')

    // Stop: the server ignores SIGTERM, so the stop takes the grace period and is shown pending
    await row(page, 'lab').getByRole('button', { name: 'Stop lab' }).click()
    await page.waitForURL(/\/hub\/home$/)
    expect(await row(page, 'lab').locator('.status').innerText()).toBe('stopping')
    expect(await row(page, 'lab').getByRole('button').count()).toBe(0) // nothing to do while it stops
    await checked(page, 'named-stop-pending')
    // the page follows the stop without a reload
    const loads = "performance.getEntriesByType('navigation').length + ':' + performance.timeOrigin"
    const before = await page.evaluate(loads)
    await expect.poll(() => row(page, 'lab').locator('.status').innerText(), { timeout: 20_000 }).toBe('stopped')
    expect(await page.evaluate(loads)).toBe(before) // the same document: no reload
    expect((await stack.serverRecord('ada', 'lab'))?.state).toBe('stopped')

    // Start again (a form post, no link can start it), then Open
    await row(page, 'lab').getByRole('button', { name: 'Start lab' }).click()
    await page.waitForURL(/\/user\/ada\/lab\/$/, { timeout: 30_000 })
    await home(page)
    await row(page, 'lab').getByRole('link', { name: 'Open lab' }).click()
    await page.waitForURL(/\/user\/ada\/lab\/$/)

    // Delete (running: it is stopped first), gone from the page and from the hub
    await home(page)
    await row(page, 'lab').getByRole('button', { name: 'Delete lab' }).click()
    await page.waitForURL(/\/hub\/home$/, { timeout: 30_000 })
    expect(await row(page, 'lab').count()).toBe(0)
    expect(await stack.serverRecord('ada', 'lab')).toBeUndefined()
    await checked(page, 'named-deleted')
    await page.context().close()
  }, 180_000) // a whole journey: several starts and a stop with its grace period, on a shared machine

  it('shows a start pending and follows it to running', async () => {
    const bo = await person(root, 'bo') // no gate yet: bo's servers start but do not listen
    const page = await logInInBrowser(browser, stack.url, bo, '/hub/home')
    await page.fill('#server_name', 'slow')
    await page.click('#add-server')
    await page.waitForURL(/\/hub\/spawn-pending\/bo\/slow/, { timeout: 30_000 })
    await home(page)
    expect(await row(page, 'slow').locator('.status').innerText()).toBe('starting')
    expect(await row(page, 'slow').getByRole('link', { name: 'Show progress' }).getAttribute('href')).toBe(
      '/hub/spawn-pending/bo/slow',
    )
    await checked(page, 'named-spawn-pending')
    open('bo')
    await expect.poll(() => row(page, 'slow').locator('.status').innerText(), { timeout: 30_000 }).toBe('running')
    await page.context().close()
  })

  it('can be used with the keyboard alone, with the focus visible', async () => {
    const cy = await person(root, 'cy')
    open('cy')
    const page = await logInInBrowser(browser, stack.url, cy, '/hub/home')
    // Tab from the top of the page to the start button, then Enter
    let focused = ''
    for (let i = 0; i < 20 && focused !== 'start'; i++) {
      await page.keyboard.press('Tab')
      focused = String(await page.evaluate("document.activeElement ? document.activeElement.id : ''"))
    }
    expect(focused).toBe('start')
    const outline = await page.evaluate("getComputedStyle(document.getElementById('start')).outlineStyle")
    expect(outline).toBe('solid') // :focus-visible draws an outline
    await screenshot(page, 'home-keyboard-focus')
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/user\/cy\/$/, { timeout: 30_000 })
    await page.context().close()
  })

  it("form posts without the page's XSRF field, from another site or a script on the hub's origin, stop and delete nothing", async () => {
    const di = await person(root, 'di')
    open('di')
    await startServer(stack.url, di.token, 'di', { server: 'keep' })
    const page = await logInInBrowser(browser, stack.url, di, '/hub/home')
    const site: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html')
      res.end(`<form id="stop" method="post" action="${stack.url}/hub/stop/di/keep"></form>
<form id="del" method="post" action="${stack.url}/hub/delete/di/keep"></form>`)
    })
    await new Promise<void>((done) => site.listen(0, '127.0.0.1', done))
    try {
      // another site (localhost, not 127.0.0.1): its posts are refused or sent to the login page
      const at = `http://localhost:${(site.address() as AddressInfo).port}/`
      for (const form of ['stop', 'del']) {
        await page.goto(at)
        const answer = page.waitForResponse((r) => r.request().method() === 'POST')
        await page.locator(`#${form}`).evaluate((f) => (f as unknown as { submit(): void }).submit())
        expect([302, 403]).toContain((await answer).status())
      }
      // a script on the hub's own origin (as a server's page is without subdomains): the session
      // cookie goes with it, the XSRF field does not
      await home(page)
      for (const path of ['/hub/stop/di/keep', '/hub/delete/di/keep']) {
        const status = await page.evaluate(
          `fetch(${JSON.stringify(path)}, { method: 'POST', body: new URLSearchParams({ _xsrf: 'forged' }), redirect: 'manual' }).then((r) => r.status)`,
        )
        expect(status).toBe(403)
      }
      expect((await stack.serverRecord('di', 'keep'))?.state).toBe('running')
    } finally {
      site.close()
      await page.context().close()
    }
  })
})
