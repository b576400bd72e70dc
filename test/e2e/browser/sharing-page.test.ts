// Sharing as people use it, in Chromium, from the login page on (users may share their own servers:
// the `user` role holds shares!user and the scopes to name users and groups, as docs/sharing.md
// says to configure it): the owner shares their server with a user and a group from its sharing page
// (reached from the home page), makes a share link, sees who has access, and revokes each; the person
// who receives the link logs in from it, accepts, and lands in the server; a revoked or expired link
// is refused with a readable page. And what others cannot do: see or change another's shares, share
// a server they do not own, or post the forms without the page's XSRF field. Each state is scanned
// for accessibility and kept as a screenshot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { startStack, type Stack } from '../../support/stack'
import { launchBrowser } from '../../support/browser'
import { logInInBrowser } from '../../support/browser-login'
import { accessibilityViolations, screenshot } from '../../support/page-check'
import { okServerSpawner } from '../../support/servers'
import { json } from '../../support/client'
import { person, rootOf, startServer, type Admin } from '../../support/people'

let browser: Browser
let stack: Stack
let root: Admin

beforeAll(async () => {
  browser = await launchBrowser()
  stack = await startStack({
    hub: { allowNamedServers: true },
    spawner: okServerSpawner(),
    roles: [{ name: 'user', scopes: ['self', 'shares!user', 'read:users:name', 'read:groups:name'] }],
  })
  root = await rootOf(stack)
})
afterAll(async () => {
  await browser?.close()
  await stack?.stop()
})

async function checked(page: Page, name: string) {
  expect(await accessibilityViolations(page)).toEqual([])
  await screenshot(page, `sharing-${name}`)
}

/** The status of GET url with a token, through the proxy (200: the server answered). */
const statusOf = async (url: string, token: string) => {
  const r = await fetch(`${stack.url}${url}`, { headers: { authorization: `token ${token}` }, redirect: 'manual' })
  await r.body?.cancel()
  return r.status
}

/** Adds a group with members, as an admin does through the API. */
async function group(name: string, users: string[]) {
  const made = await fetch(`${stack.url}/hub/api/groups/${name}`, {
    method: 'POST',
    headers: { ...root.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ users }),
  })
  expect(made.status).toBe(201)
}

describe('sharing a server from its sharing page', () => {
  it('shares with a user and a group, makes a link that is accepted, lists who has access and revokes each', async () => {
    const sue = await person(root, 'sue')
    const val = await person(root, 'val')
    const gus = await person(root, 'gus')
    await group('team', ['gus'])
    await startServer(stack.url, sue.token, 'sue')

    const page = await logInInBrowser(browser, stack.url, sue, '/hub/home')
    await page.locator('#share').click()
    await page.waitForURL(/\/hub\/share\/sue\/$/)
    expect(await page.locator('#access').innerText()).toContain('Nobody: this server is not shared.')
    await checked(page, 'empty')

    // a user who does not exist: refused on the page, the name kept
    await page.fill('#share-name', 'nobody')
    await page.click('#share-submit')
    expect(await page.locator('#share-error').innerText()).toBe('No such user: nobody.')
    expect(await page.inputValue('#share-name')).toBe('nobody')
    await checked(page, 'refused')

    // val, by name: val's token now opens sue's server
    expect(await statusOf('/user/sue/', val.token)).not.toBe(200)
    await page.fill('#share-name', 'val')
    await page.click('#share-submit')
    await page.waitForURL(/\/hub\/share\/sue\/\?done=shared$/)
    expect(await page.locator('#share-notice').innerText()).toBe('Shared.')
    await expect.poll(() => statusOf('/user/sue/', val.token)).toBe(200)

    // the group team: gus, a member, gets in
    await page.getByLabel('a group').check()
    await page.fill('#share-name', 'team')
    await page.click('#share-submit')
    await page.waitForURL(/done=shared$/)
    await expect.poll(() => statusOf('/user/sue/', gus.token)).toBe(200)
    expect(
      await page.locator('#access tr[data-share]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-share'))),
    ).toEqual(['user:val', 'group:team'])

    // a link, for an hour
    await page.selectOption('#link-expires', '3600')
    await page.click('#link-submit')
    const link = await page.inputValue('#new-link')
    expect(link).toMatch(new RegExp(`^${stack.url}/hub/accept-share\\?code=[A-Za-z0-9_-]{40,}$`))
    await checked(page, 'link')

    // wes receives the link: logs in from it, reads the invitation, accepts, lands in the server
    const wes = await person(root, 'wes')
    const wesPage = await (await browser.newContext()).newPage()
    await wesPage.goto(link)
    expect(new URL(wesPage.url()).pathname).toBe('/hub/login')
    await wesPage.fill('#username', 'wes')
    await wesPage.fill('#password', wes.password)
    await wesPage.click('#login_submit')
    await wesPage.waitForURL(/\/hub\/accept-share\?code=/)
    const invitation = await wesPage.locator('main').innerText()
    expect(invitation).toContain("You (wes) have been invited to use sue's server")
    expect(invitation).not.toContain('not running')
    expect(await accessibilityViolations(wesPage)).toEqual([])
    await screenshot(wesPage, 'sharing-accept')
    await wesPage.click('#accept')
    await wesPage.waitForURL(/\/user\/sue\/$/, { timeout: 30_000 })
    expect(await wesPage.locator('body').innerText()).toBe('ok')

    // the owner sees wes and the link's use
    await page.goto(`${stack.url}/hub/share/sue/`)
    expect(await page.locator('#access tr[data-share="user:wes"]').count()).toBe(1)
    expect(await page.locator('#links tbody tr').innerText()).toContain('1 time')
    await checked(page, 'who-has-access')

    // revoking val shuts val out at the proxy
    await page.getByRole('button', { name: 'Revoke access of user val' }).click()
    await page.waitForURL(/done=revoked$/)
    expect(await page.locator('#access tr[data-share="user:val"]').count()).toBe(0)
    await expect.poll(() => statusOf('/user/sue/', val.token)).not.toBe(200)
    expect(await statusOf('/user/sue/', gus.token)).toBe(200) // the others keep theirs

    // revoking the link: it can no longer be accepted (a readable page), wes keeps the share
    await page
      .locator('#links')
      .getByRole('button', { name: /^Revoke share link/ })
      .click()
    await page.waitForURL(/done=link-revoked$/)
    expect(await page.locator('#links').count()).toBe(0)
    const late = await logInInBrowser(browser, stack.url, val, link.slice(stack.url.length))
    expect(await late.locator('main').innerText()).toContain('This share code is unknown or has expired')
    expect(await accessibilityViolations(late)).toEqual([])
    await screenshot(late, 'sharing-link-revoked')
    expect(await statusOf('/user/sue/', val.token)).not.toBe(200)
    await Promise.all([page.context().close(), wesPage.context().close(), late.context().close()])
  }, 180_000) // a whole journey: four people, logins, a server and the proxy following each change

  it('shares a named server from its row on the home page, for that server only', async () => {
    const tom = await person(root, 'tom')
    const una = await person(root, 'una')
    await startServer(stack.url, tom.token, 'tom')
    await startServer(stack.url, tom.token, 'tom', { server: 'lab' })
    const page = await logInInBrowser(browser, stack.url, tom, '/hub/home')
    await page.locator('#named-servers tr[data-server="lab"]').getByRole('link', { name: 'Share lab' }).click()
    await page.waitForURL(/\/hub\/share\/tom\/lab$/)
    expect(await page.locator('h1').first().innerText()).toBe('Share your server lab')
    await page.fill('#share-name', 'una')
    await page.click('#share-submit')
    await page.waitForURL(/\/hub\/share\/tom\/lab\?done=shared$/)
    await checked(page, 'named')
    await expect.poll(() => statusOf('/user/tom/lab/', una.token)).toBe(200)
    expect(await statusOf('/user/tom/', una.token)).not.toBe(200) // the default server is not shared
    // una's home page lists it
    const unaPage = await logInInBrowser(browser, stack.url, una, '/hub/home')
    const link = unaPage.locator('#shared-with-me a')
    expect(await link.innerText()).toBe("tom's server lab")
    expect(await link.getAttribute('href')).toBe('/user/tom/lab/')
    await Promise.all([page.context().close(), unaPage.context().close()])
  })

  it('refuses an expired share link with a readable page', async () => {
    const amy = await person(root, 'amy')
    const ben = await person(root, 'ben')
    const made = await fetch(`${stack.url}/hub/api/share-codes/amy/`, {
      method: 'POST',
      headers: { ...amy.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ expires_in: 60 }),
    })
    const code = await json(made)
    // an hour has passed for the link: its recorded expiry is in the past
    await stack.state.hset(stack.keys.shareCode(code.id), 'expires_at', new Date(Date.now() - 3_600_000).toISOString())
    const page = await logInInBrowser(browser, stack.url, ben, code.accept_url)
    const status = await page.evaluate(`fetch(location.href).then((r) => r.status)`)
    expect(status).toBe(404)
    const text = await page.locator('main').innerText()
    expect(text).toContain('This share code is unknown or has expired: ask the owner of the server for a new link.')
    expect(text).not.toMatch(/[{}]|Error:/)
    expect(await page.locator('#accept').count()).toBe(0)
    await checked(page, 'expired')
    await page.context().close()
  })

  it("others can neither see nor change someone's shares, nor share a server they do not own", async () => {
    const ola = await person(root, 'ola')
    const pip = await person(root, 'pip')
    const page = await logInInBrowser(browser, stack.url, pip, '/hub/home')

    // ola's sharing page: not pip's to see
    const seen = await page.goto(`${stack.url}/hub/share/ola/`)
    expect(seen?.status()).toBe(404)
    expect(await page.locator('main').innerText()).toContain('No access to resources or resources not found')

    // pip's own session and XSRF field, posting to ola's sharing page: refused, nothing shared
    await page.goto(`${stack.url}/hub/share/pip/`)
    for (const fields of [
      { action: 'grant', kind: 'user', name: 'pip' },
      { action: 'link', expires_in: '3600' },
      { action: 'revoke', kind: 'user', name: 'pip' },
    ]) {
      const status = await page.evaluate(`(async () => {
        const xsrf = document.querySelector('input[name=_xsrf]').value
        const r = await fetch('/hub/share/ola/', { method: 'POST', body: new URLSearchParams({ _xsrf: xsrf, ...${JSON.stringify(fields)} }), redirect: 'manual' })
        return r.status
      })()`)
      expect(status).toBe(404)
    }
    expect((await json(await fetch(`${stack.url}/hub/api/shares/ola/`, { headers: ola.auth }))).items).toEqual([])
    expect((await json(await fetch(`${stack.url}/hub/api/share-codes/ola/`, { headers: ola.auth }))).items).toEqual([])

    // pip's own page without the XSRF field (a script on the hub's origin): refused
    const forged = await page.evaluate(
      `fetch('/hub/share/pip/', { method: 'POST', body: new URLSearchParams({ action: 'grant', kind: 'user', name: 'ola' }), redirect: 'manual' }).then((r) => r.status)`,
    )
    expect(forged).toBe(403)
    expect((await json(await fetch(`${stack.url}/hub/api/shares/pip/`, { headers: pip.auth }))).items).toEqual([])
    await page.context().close()
  })
})

describe("a hub with JupyterHub's default roles (users hold read:shares on their servers, not shares)", () => {
  let plain: Stack
  let admin: Admin
  beforeAll(async () => {
    plain = await startStack({ spawner: okServerSpawner() })
    admin = await rootOf(plain)
  })
  afterAll(() => plain?.stop())

  it('the sharing page lists and explains, offers no forms, and refuses a post', async () => {
    const kim = await person(admin, 'kim')
    const page = await logInInBrowser(browser, plain.url, kim, '/hub/home')
    expect(await page.locator('#server-status').innerText()).toBe('stopped')
    expect(await page.locator('#share').count()).toBe(0) // no Share button on the home page
    await page.goto(`${plain.url}/hub/share/kim/`)
    expect(await page.locator('#not-allowed').innerText()).toContain('Your roles do not let you share this server')
    expect(await page.locator('form#share-form, form#link-form').count()).toBe(0)
    const status = await page.evaluate(`(async () => {
      const xsrf = decodeURIComponent(document.cookie.match(/edgehub-xsrf=([^;]+)/)[1]) // the page has no form
      const r = await fetch('/hub/share/kim/', { method: 'POST', body: new URLSearchParams({ _xsrf: xsrf, action: 'link', expires_in: '3600' }), redirect: 'manual' })
      return r.status
    })()`)
    expect(status).toBe(403)
    await checked(page, 'not-allowed')
    await page.context().close()
  })
})
