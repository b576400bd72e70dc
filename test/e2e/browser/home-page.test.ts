// The home page as people use it, in Chromium: Log out with hub.shutdownOnLogout stops the person's
// servers (default and named) while another session of theirs stays logged in, and with the setting
// off stops nothing; named servers are added from the home page, and one beyond
// hub.namedServerLimitPerUser is refused with a readable page (and by the API with 400 and JSON);
// services with a URL and `display` (JupyterHub's default) are listed, others not, and neither a
// service's name nor its URL reaches the page as markup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { startStack, type Stack } from '../../support/stack'
import { launchBrowser } from '../../support/browser'
import { json } from '../../support/client'
import { okServerSpawner } from '../../support/servers'
import { logIn, person, rootOf, serverRouted, startServer, type Admin } from '../../support/people'

let browser: Browser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(() => browser?.close())

/** A person opens the hub and logs in through the form; the page once their server has opened. */
async function logInInBrowser(stack: Stack, who: Admin): Promise<Page> {
  const page = await (await browser.newContext()).newPage()
  await page.goto(`${stack.url}/hub/login`)
  await page.fill('#username', who.name)
  await page.fill('#password', who.password)
  await page.click('#login_submit')
  await page.waitForURL(new RegExp(`/user/${who.name}/$`), { timeout: 30_000 }) // the login starts the default server
  return page
}

/** The user's active servers as the API reports them: name -> ready. */
async function serversOf(stack: Stack, who: Admin): Promise<Record<string, boolean>> {
  const model = await json(await fetch(`${stack.url}/hub/api/users/${who.name}`, { headers: who.auth }))
  return Object.fromEntries(
    Object.entries(model.servers as Record<string, { ready: boolean }>).map(([k, v]) => [k, v.ready]),
  )
}

/** Clicks Log out in the header of the home page, as a person does; waits for the login page. */
async function logOutFromHome(stack: Stack, page: Page): Promise<void> {
  await page.goto(`${stack.url}/hub/home`)
  await page.locator('header a', { hasText: 'Log out' }).click()
  await page.waitForURL(/\/hub\/login\?logged_out=1$/, { timeout: 30_000 })
}

describe('a hub with shutdownOnLogout, named servers (limit 1) and services', () => {
  let stack: Stack
  let root: Admin
  beforeAll(async () => {
    stack = await startStack({
      hub: { shutdownOnLogout: true, allowNamedServers: true, namedServerLimitPerUser: 1 },
      spawner: okServerSpawner(),
      services: [
        { name: 'grader', url: 'http://127.0.0.1:9/' },
        { name: 'hidden-stats', url: 'http://127.0.0.1:9/', display: false },
        { name: 'api-only' }, // no URL: nothing to link to
        { name: 'odd-url', url: 'http://127.0.0.1:9/"><script>window.__injected=1</script>' },
      ],
    })
    root = await rootOf(stack)
  })
  afterAll(() => stack?.stop())

  it('stops the default and named servers of a person who logs out; their other session stays logged in', async () => {
    const lea = await person(root, 'lea') // logged in (a second session) with a token of her own
    const page = await logInInBrowser(stack, lea)
    await startServer(stack.url, lea.token, 'lea', { server: 'work' })
    expect(await serversOf(stack, lea)).toEqual({ '': true, work: true })

    await logOutFromHome(stack, page)
    // the stops are done by the time the logout answers
    expect(await serversOf(stack, lea)).toEqual({})
    expect((await stack.serverRecords('lea')).map((s) => s.state)).toEqual(['stopped', 'stopped'])
    const proxied = await fetch(`${stack.url}/user/lea/work/`, { headers: lea.auth, redirect: 'manual' })
    expect(proxied.headers.get('location') ?? '').toMatch(/^\/hub\/user\/lea\/work\//) // no route any more
    // this browser is logged out; the other session is not
    await page.goto(`${stack.url}/hub/home`)
    expect(new URL(page.url()).pathname).toBe('/hub/login')
    const other = await lea.client.get('/hub/home')
    expect(other.status).toBe(200)
    expect(await other.text()).toContain('Log out')
    await page.context().close()
  })

  it('a logout link on another site logs the person out and leaves their servers running', async () => {
    const max = await person(root, 'max')
    const page = await logInInBrowser(stack, max)
    // another site (another origin: localhost, not 127.0.0.1) with a link to the hub's logout
    const site: Server = createServer((_req, res) =>
      res.end(`<a id="out" href="${stack.url}/hub/logout">win a prize</a>`),
    )
    await new Promise<void>((done) => site.listen(0, '127.0.0.1', done))
    try {
      await page.goto(`http://localhost:${(site.address() as AddressInfo).port}/`)
      await page.click('#out')
      await page.waitForURL(/\/hub\/login\?logged_out=1$/, { timeout: 30_000 })
      expect(await serversOf(stack, max)).toEqual({ '': true }) // still running
      await page.goto(`${stack.url}/hub/home`)
      expect(new URL(page.url()).pathname).toBe('/hub/login') // but this browser is logged out
    } finally {
      site.close()
      await page.context().close()
    }
  })

  it('adds a named server from the home page and refuses one beyond the limit with a readable page', async () => {
    const olga = await person(root, 'olga')
    const page = await logInInBrowser(stack, olga)
    await page.goto(`${stack.url}/hub/home`)
    expect(await page.locator('#named-servers').innerText()).toContain('You have no named servers.')
    await page.fill('#server_name', 'first')
    await page.click('#add-server')
    await page.waitForURL(/\/user\/olga\/first\/$/, { timeout: 30_000 })

    await page.goto(`${stack.url}/hub/home`)
    const row = page.locator('#named-servers tr[data-server="first"]')
    expect(await row.locator('.status').innerText()).toBe('running')
    expect(await row.locator('a', { hasText: 'Open' }).getAttribute('href')).toBe('/user/olga/first/')

    let status = 0
    page.on('response', (r) => void (new URL(r.url()).pathname === '/hub/spawn/olga/second' && (status = r.status())))
    await page.fill('#server_name', 'second')
    await page.click('#add-server')
    await page.waitForURL(/\/hub\/spawn\/olga\/second$/)
    expect(status).toBe(400)
    const text = await page.locator('main').innerText()
    expect(text).toContain('already has 1 named servers running (limit 1)')
    expect(text).not.toMatch(/[{}]|\bat \S+:\d+|Error:/)
    expect(await stack.serverRecord('olga', 'second')).toBeUndefined()

    // the API refuses the same with 400 and JSON; the default server does not count
    const api = await fetch(`${stack.url}/hub/api/users/olga/servers/third`, { method: 'POST', headers: olga.auth })
    expect(api.status).toBe(400)
    expect(await json(api)).toEqual({ status: 400, message: 'User olga already has 1 named servers running (limit 1)' })
    // a stopped named server no longer counts (the limit is on servers running at once)
    await page.goto(`${stack.url}/hub/home`)
    await row.locator('button', { hasText: 'Stop' }).click()
    await page.waitForURL(/\/hub\/home$/)
    // shown stopping until it has stopped; the page follows it
    await expect.poll(() => row.locator('.status').innerText(), { timeout: 20_000 }).toBe('stopped')
    await startServer(stack.url, olga.token, 'olga', { server: 'third' })
    expect(await serversOf(stack, olga)).toMatchObject({ '': true, third: true })
    await page.context().close()
  })

  it('admits one of several named servers started at once when one place is left', async () => {
    const rae = await person(root, 'rae')
    const answers = await Promise.all(
      ['a', 'b', 'c'].map(async (s) => {
        const r = await fetch(`${stack.url}/hub/api/users/rae/servers/${s}`, { method: 'POST', headers: rae.auth })
        return { status: r.status, body: await r.text() }
      }),
    )
    const started = answers.filter((a) => a.status === 201 || a.status === 202)
    const refused = answers.filter((a) => a.status === 400)
    expect([started.length, refused.length]).toEqual([1, 2])
    for (const a of refused)
      expect(JSON.parse(a.body).message).toBe('User rae already has 1 named servers running (limit 1)')
    // the refused starts recorded nothing
    expect((await stack.serverRecords('rae')).filter((s) => s.name).length).toBe(1)
  })

  it('lists the services that have a URL and are displayed, as links to their prefix, and nothing else', async () => {
    const sam = await person(root, 'sam')
    const page = await logInInBrowser(stack, sam)
    await page.goto(`${stack.url}/hub/home`)
    const links = page.locator('#services a')
    expect(await links.allInnerTexts()).toEqual(['grader', 'odd-url'])
    expect(await Promise.all((await links.all()).map((a) => a.getAttribute('href')))).toEqual([
      '/services/grader/',
      '/services/odd-url/',
    ])
    const html = await page.content()
    expect(html).not.toContain('hidden-stats')
    expect(html).not.toContain('api-only')
    // the service's URL is never written into the page, so its markup cannot run
    expect(html).not.toContain('127.0.0.1:9')
    expect(await page.evaluate(() => (globalThis as { __injected?: number }).__injected)).toBeUndefined()
    await page.context().close()
  })
})

describe('a hub with shutdownOnLogout off (the default)', () => {
  let stack: Stack
  let root: Admin
  beforeAll(async () => {
    stack = await startStack({ hub: { allowNamedServers: true }, spawner: okServerSpawner() })
    root = await rootOf(stack)
  })
  afterAll(() => stack?.stop())

  it('leaves every server of a person who logs out running, and shows no services', async () => {
    const max = await person(root, 'max')
    const page = await logInInBrowser(stack, max)
    await startServer(stack.url, max.token, 'max', { server: 'work' })
    await page.goto(`${stack.url}/hub/home`)
    expect(await page.locator('#services').count()).toBe(0)

    await logOutFromHome(stack, page)
    expect(await serversOf(stack, max)).toEqual({ '': true, work: true })
    await serverRouted(stack.url, max.token, 'max', { server: 'work' })
    expect((await fetch(`${stack.url}/user/max/work/`, { headers: max.auth })).status).toBe(200)
    // and the browser is logged out all the same
    await page.goto(`${stack.url}/hub/home`)
    expect(new URL(page.url()).pathname).toBe('/hub/login')
    // logging in again needs no new start
    const again = await logIn(stack.url, 'max', max.password)
    expect((await again.get('/hub/')).headers.get('location')).toBe('/user/max/')
    await page.context().close()
  })
})
