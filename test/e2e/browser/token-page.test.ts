// The token page as a person uses it, in Chromium, from the login page on: a token requested with a
// note, a lifetime and scopes, shown once and working with just those scopes; a request for scopes
// the person does not hold (or that do not parse) refused on the page with the form as it was
// filled in; a token revoked; an application authorised through the hub's OAuth (the consent page)
// listed and revoked, its token then refused. And what others cannot do: see or revoke someone's
// tokens, or post the forms without the page's XSRF field. Each state scanned and kept as a screenshot.
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { startStack, type Stack } from '../../support/stack'
import { launchBrowser } from '../../support/browser'
import { logInInBrowser } from '../../support/browser-login'
import { accessibilityViolations, screenshot } from '../../support/page-check'
import { okServerSpawner } from '../../support/servers'
import { json } from '../../support/client'
import { person, rootOf, type Admin } from '../../support/people'
import { freePort } from '../../../runtime/src/ports'

const GRADER_TOKEN = 'grader-service-token-0123456789abcdef'

let browser: Browser
let stack: Stack
let root: Admin
let grader: Server
/** The paths (with query) the grader service was asked for: its OAuth callback among them. */
const graderRequests: string[] = []

beforeAll(async () => {
  browser = await launchBrowser()
  const port = await freePort('127.0.0.1')
  grader = createServer((req, res) => {
    graderRequests.push(req.url ?? '')
    res.end('grader')
  })
  await new Promise<void>((done) => grader.listen(port, '127.0.0.1', done))
  stack = await startStack({
    spawner: okServerSpawner(),
    services: [{ name: 'grader', url: `http://127.0.0.1:${port}`, apiToken: GRADER_TOKEN }],
    roles: [{ name: 'grader-users', scopes: ['access:services!service=grader'], users: ['tia'] }],
  })
  root = await rootOf(stack)
})
afterAll(async () => {
  await browser?.close()
  await stack?.stop()
  grader?.close()
})

async function checked(page: Page, name: string) {
  expect(await accessibilityViolations(page)).toEqual([])
  await screenshot(page, `token-${name}`)
}

const api = (path: string, token: string) =>
  fetch(`${stack.url}/hub/api${path}`, { headers: { authorization: `token ${token}` } })

describe('the token page', () => {
  it('requests a token with a note, lifetime and scopes, refuses scopes not held keeping the form, and revokes', async () => {
    const tia = await person(root, 'tia')
    const page = await logInInBrowser(browser, stack.url, tia, '/hub/token')
    expect(new URL(page.url()).pathname).toBe('/hub/token')
    await checked(page, 'start')

    // scopes beyond what tia holds: refused on the page, with everything typed still there
    await page.fill('#note', 'too much')
    await page.selectOption('#expires_in', '604800')
    await page.fill('#scopes', 'read:users!user admin:users')
    const refused = page.waitForResponse((r) => r.request().method() === 'POST')
    await page.click('#request-token')
    expect((await refused).status()).toBe(403)
    expect(await page.locator('#token-error').innerText()).toBe(
      'You do not hold admin:users, so a token of yours cannot be given it.',
    )
    expect(await page.inputValue('#note')).toBe('too much')
    expect(await page.inputValue('#expires_in')).toBe('604800')
    expect(await page.inputValue('#scopes')).toBe('read:users!user admin:users')
    expect(await page.locator('#new-token').count()).toBe(0)
    await checked(page, 'refused')
    // a scope that does not parse: 400, named
    await page.fill('#scopes', 'read:users!nonsense=1')
    await page.click('#request-token')
    await expect.poll(() => page.locator('#token-error').innerText()).toMatch(/nonsense/)
    const before = (await json(await api('/users/tia/tokens', tia.token))).api_tokens.length

    // what tia holds: issued, shown once, working with those scopes only
    await page.fill('#note', 'ci script')
    await page.selectOption('#expires_in', '86400')
    await page.fill('#scopes', 'read:users!user')
    await page.click('#request-token')
    const token = await page.locator('#new-token').innerText()
    expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    await checked(page, 'created')
    expect((await json(await api('/user', token))).name).toBe('tia')
    expect((await api('/users/tia/tokens', token)).status).toBe(403) // not read:tokens
    const model = (await json(await api('/users/tia/tokens', tia.token))).api_tokens
    expect(model.length).toBe(before + 1)
    const made = model.find((t: { note: string }) => t.note === 'ci script')
    expect(made.scopes).toContain('read:users!user=tia') // with its subscopes, as the REST API reports it
    expect(made.scopes.every((s: string) => s.endsWith('!user=tia'))).toBe(true)
    const lifetime = (Date.parse(made.expires_at) - Date.parse(made.created)) / 1000
    expect(Math.abs(lifetime - 86400)).toBeLessThan(5)

    // listed (reload: the token is not shown again), then revoked; it stops working at once
    await page.goto(`${stack.url}/hub/token`)
    expect(await page.locator('#new-token').count()).toBe(0)
    const row = page.locator(`#api-tokens tr[data-token="${made.id}"]`)
    expect(await row.innerText()).toContain('ci script')
    await row.getByRole('button', { name: 'Revoke token ci script' }).click()
    await page.waitForURL(/\/hub\/token\?done=revoked$/)
    expect(await page.locator('#token-notice').innerText()).toBe('Token revoked.')
    expect(await row.count()).toBe(0)
    expect((await api('/user', token)).status).toBe(403)
    await checked(page, 'revoked')
    await page.context().close()
  })

  it('lists an application authorised through OAuth and revoking it ends its access', async () => {
    const tia = { name: 'tia', password: 'tia-password' }
    const page = await logInInBrowser(browser, stack.url, tia, '/hub/home')
    const callback = '/services/grader/oauth_callback'
    await page.goto(
      `${stack.url}/hub/api/oauth2/authorize?${new URLSearchParams({ client_id: 'service-grader', redirect_uri: callback, response_type: 'code', state: 'st' })}`,
    )
    // the consent page: not a service the operator marked trusted
    expect(await page.locator('main').innerText()).toContain('would like to act on your behalf')
    await page.getByRole('button', { name: 'Authorize' }).click()
    await page.waitForURL((u) => u.pathname === callback)
    const code = new URL(page.url()).searchParams.get('code')!
    expect(graderRequests.some((r) => r.startsWith('/services/grader/oauth_callback?'))).toBe(true)
    // the service's back end exchanges the code for a token of tia's
    const exchanged = await fetch(`${stack.url}/hub/api/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: callback,
        client_id: 'service-grader',
        client_secret: GRADER_TOKEN,
      }),
    })
    const appToken = (await json(exchanged)).access_token as string
    expect((await json(await api('/user', appToken))).name).toBe('tia')

    await page.goto(`${stack.url}/hub/token`)
    const app = page.locator('#authorized-apps tr[data-client="service-grader"]')
    expect(await app.innerText()).toContain('service-grader')
    // the application's token is not listed among the API tokens
    expect(await page.locator('#api-tokens').innerText()).not.toContain('OAuth token for')
    await checked(page, 'application')
    await app.getByRole('button', { name: /^Revoke / }).click()
    await page.waitForURL(/\/hub\/token\?done=app-revoked$/)
    expect(await app.count()).toBe(0)
    expect((await api('/user', appToken)).status).toBe(403)
    // and through the proxy, on the service's own path
    const proxied = await fetch(`${stack.url}/services/grader/`, {
      headers: { authorization: `token ${appToken}` },
      redirect: 'manual',
    })
    expect(proxied.status).not.toBe(200)
    await page.context().close()
  })

  it("another user neither sees nor revokes someone's tokens, and forms without the XSRF field do nothing", async () => {
    const ann = await person(root, 'ann')
    const uma = await person(root, 'uma')
    const annPage = await logInInBrowser(browser, stack.url, ann, '/hub/token')
    await annPage.fill('#note', 'ann-secret-note')
    await annPage.click('#request-token')
    const annToken = await annPage.locator('#new-token').innerText()
    const id = (await json(await api('/users/ann/tokens', ann.token))).api_tokens.find(
      (t: { note: string }) => t.note === 'ann-secret-note',
    ).id as string

    const umaPage = await logInInBrowser(browser, stack.url, uma, '/hub/token')
    expect(await umaPage.content()).not.toContain('ann-secret-note')
    // uma's own session and XSRF field, ann's token id: no such token for uma
    const status = await umaPage.evaluate(`(async () => {
      const xsrf = document.querySelector('input[name=_xsrf]').value
      const r = await fetch(${JSON.stringify(`/hub/token/${id}/revoke`)}, { method: 'POST', body: new URLSearchParams({ _xsrf: xsrf }), redirect: 'manual' })
      return r.status
    })()`)
    expect(status).toBe(404)
    expect((await api('/user', annToken)).status).toBe(200)

    // ann's own session without the page's XSRF field (a script on the hub's origin): refused
    for (const [path, body] of [
      [`/hub/token/${id}/revoke`, {}],
      ['/hub/token', { note: 'minted by a script' }],
    ] as const) {
      const s = await annPage.evaluate(
        `fetch(${JSON.stringify(path)}, { method: 'POST', body: new URLSearchParams(${JSON.stringify(body)}), redirect: 'manual' }).then((r) => r.status)`,
      )
      expect(s).toBe(403)
    }
    expect((await api('/user', annToken)).status).toBe(200)
    const notes = (await json(await api('/users/ann/tokens', ann.token))).api_tokens.map(
      (t: { note: string }) => t.note,
    )
    expect(notes).not.toContain('minted by a script')
    await annPage.context().close()
    await umaPage.context().close()
  })
})
