// The link course material hands out (nbgitpuller's, any /hub/user-redirect/ link), followed by a
// person whose server is stopped: logged out, the login page, then the not-running page's Start
// button, the spawn-pending page while the server starts, and finally the linked path on their own
// server with its whole query, as in JupyterHub. Then the same link with the server running, and the
// pending page's next kept to paths on this site and out of its markup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { startStack, type Stack } from '../../support/stack'
import { launchBrowser } from '../../support/browser'
import { json } from '../../support/client'
import { person, rootOf, type Admin } from '../../support/people'
import { waitFor } from '../../support/wait'
import { ECHO_SERVER, gatedSpawner } from '../../support/servers'

const LINK_PATH =
  'git-pull?repo=https%3A%2F%2Fgit.example.org%2Fcourse.git&branch=main&urlpath=tree%2Fcourse%2Fweek1.ipynb'
/** A URL without the one retry the hub adds when a proxy had not yet learned a new route (redirects=1). */
const withoutRetry = (url: string) => url.replace(/&redirects=1$/, '')

let browser: Browser
let stack: Stack
let gates: string // readable by the users' accounts: the servers run as them
let root: Admin
let ada: Admin
const gate = (user: string) => join(gates, user)
const auth = (p: Admin) => ({ headers: p.auth })
const serverOf = async (p: Admin) =>
  (await json(await fetch(`${stack.url}/hub/api/users/${p.name}`, auth(p)))).servers[''] as
    { ready: boolean } | undefined

beforeAll(async () => {
  gates = mkdtempSync(join(tmpdir(), 'edgehub-gates-'))
  chmodSync(gates, 0o755)
  ;[browser, stack] = await Promise.all([
    launchBrowser(),
    startStack({
      // each user's server answers with what it was sent, once that user's gate file exists
      spawner: gatedSpawner(join(gates, '{user}'), ECHO_SERVER),
    }),
  ])
  root = await rootOf(stack)
  ada = await person(root, 'ada')
}, 120_000)
afterAll(async () => {
  await Promise.all([browser?.close(), stack?.stop()])
  rmSync(gates, { recursive: true, force: true })
})

describe('a user-redirect link to a stopped server', () => {
  it('logs the person in, starts their server from the not-running page and lands on the linked path with its query', async () => {
    const page = await (await browser.newContext()).newPage()
    await page.goto(`${stack.url}/hub/user-redirect/${LINK_PATH}`)
    expect(new URL(page.url()).pathname).toBe('/hub/login')
    await page.fill('#username', 'ada')
    await page.fill('#password', ada.password)
    await page.click('#login_submit')
    // her server is stopped: its not-running page names the linked path, query included
    await page.waitForSelector('#start')
    expect(await page.textContent('body')).toContain(`/user/ada/${LINK_PATH}`)
    await page.click('#start')
    await page.waitForSelector('#pending')
    expect(new URL(page.url()).pathname).toBe('/hub/spawn-pending/ada')
    writeFileSync(gate('ada'), '') // the server may now listen
    await page.waitForURL((u) => u.pathname === '/user/ada/git-pull', { timeout: 30_000 })
    expect(withoutRetry(page.url())).toBe(`${stack.url}/user/ada/${LINK_PATH}`)
    // the server itself was asked for the linked path and query
    expect(withoutRetry(JSON.parse((await page.textContent('body'))!).path)).toBe(`/user/ada/${LINK_PATH}`)
    await page.context().close()
  })

  it('goes straight to the linked path when the server runs', async () => {
    expect((await serverOf(ada))?.ready).toBe(true)
    const page = await (await browser.newContext()).newPage()
    await page.goto(`${stack.url}/hub/login`)
    await page.fill('#username', 'ada')
    await page.fill('#password', ada.password)
    await page.click('#login_submit')
    await page.waitForLoadState()
    await page.goto(`${stack.url}/hub/user-redirect/${LINK_PATH}`)
    expect(page.url()).toBe(`${stack.url}/user/ada/${LINK_PATH}`)
    await page.context().close()
  })
})

describe("the spawn-pending page's next", () => {
  it('is kept only when it is a path on this site, and only as text in the page', async () => {
    const bob = await person(root, 'bob')
    expect(
      (await bob.client.postForm('/hub/spawn?next=%2Fuser%2Fbob%2Fnotebooks%2Fa.ipynb', {})).headers.get('location'),
    ).toBe('/hub/spawn-pending/bob?next=%2Fuser%2Fbob%2Fnotebooks%2Fa.ipynb')
    // while it starts (its gate is closed), the page carries next in an attribute, escaped
    const hostile = '/user/bob/"><script>alert(1)</script>'
    const html = await (await bob.client.get(`/hub/spawn-pending/bob?next=${encodeURIComponent(hostile)}`)).text()
    expect(html).not.toContain('<script>alert(1)')
    expect(html).toContain('data-next="/user/bob/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"')
    // another site, a scheme-relative URL, a backslash: dropped, the page goes to the server
    for (const next of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const page = await (await bob.client.get(`/hub/spawn-pending/bob?next=${encodeURIComponent(next)}`)).text()
      expect(page).toContain('data-next=""')
    }
    writeFileSync(gate('bob'), '')
    await waitFor("bob's server", async () => (await serverOf(bob))?.ready === true, { timeoutMs: 30_000 })
    // ready: the pending page sends next on at once, and a foreign next to the server instead
    expect((await bob.client.get('/hub/spawn-pending/bob?next=%2Fuser%2Fbob%2Flab')).headers.get('location')).toBe(
      '/user/bob/lab',
    )
    expect(
      (await bob.client.get(`/hub/spawn-pending/bob?next=${encodeURIComponent('//evil.example/x')}`)).headers.get(
        'location',
      ),
    ).toBe('/user/bob/')
  })
})
