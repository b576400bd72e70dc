// Logging in to a hub through OpenID Connect in Chromium. The identity provider is a second edgehub
// (its /hub/oidc, its own users and login form, at http://localhost:PORT); the hub under test has
// auth.kind oidc against it. A person opens the hub's login page, clicks "Sign in with …", logs in at
// the provider, comes back logged in, starts a server, and logs out through the provider's end-session
// page back to the hub's login page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { launchBrowser } from '../../support/browser'
import { json } from '../../support/client'
import { okServerSpawner } from '../../support/servers'
import { hubAdmin, providerUser, startTwoHubs, type TwoHubs } from '../auth/two-hubs'

const PASSWORD = 'provider password 1'
let two: TwoHubs
let browser: Browser

beforeAll(async () => {
  ;[two, browser] = await Promise.all([
    startTwoHubs({ auth: { manageGroups: true }, hub: { spawner: okServerSpawner() } }),
    launchBrowser(),
  ])
  await providerUser(two, 'ada', PASSWORD, ['physics'])
}, 120_000)
afterAll(async () => {
  await browser?.close()
  await two?.stop()
})

describe('a hub logging people in at another edgehub', () => {
  it('signs in at the provider, starts a server, and logs out through the provider', async () => {
    const page = await (await browser.newContext()).newPage()
    const visited: string[] = []
    page.on('request', (r) => r.isNavigationRequest() && visited.push(r.url())) // redirects included

    await page.goto(`${two.hub.url}/hub/login`)
    expect(await page.locator('#password').count()).toBe(0) // no password form: only the provider's button
    await page.getByRole('link', { name: 'Sign in with Campus Hub' }).click()

    // the provider's own login form (its hub's), at its own address
    await page.waitForURL((u) => u.origin === two.providerUrl && u.pathname === '/hub/login', { timeout: 30_000 })
    await page.fill('#username', 'ada')
    await page.fill('#password', PASSWORD)
    await page.click('#login_submit')

    // back at the hub under test, logged in as ada: the login starts her default server
    await page.waitForURL((u) => u.origin === two.hub.url && u.pathname.startsWith('/user/ada/'), {
      timeout: 60_000,
    })
    expect(await page.textContent('body')).toBe('ok')
    expect(visited.some((u) => u.startsWith(`${two.hub.url}/hub/oauth_callback?`))).toBe(true)

    const admin = hubAdmin(two.hub).auth
    const model = await json(await fetch(`${two.hub.url}/hub/api/users/ada`, { headers: admin }))
    expect(model.servers[''].ready).toBe(true)
    expect(model.groups).toEqual(['physics'])

    // Log out: the hub's session ends, then the provider asks to end its own, and sends the browser back
    await page.goto(`${two.hub.url}/hub/home`)
    await page.locator('header a', { hasText: 'Log out' }).click()
    await page.waitForURL((u) => u.origin === two.providerUrl && u.pathname === '/hub/oidc/session/end', {
      timeout: 30_000,
    })
    expect(visited.at(-1)).toMatch(/[?&]id_token_hint=/)
    await page.getByRole('button', { name: 'Yes, log out' }).click()
    await page.waitForURL(`${two.hub.url}/hub/login?logged_out=1`, { timeout: 30_000 })
    expect(await page.textContent('body')).toContain('You have logged out.')

    // logged out of the hub under test: its pages send the browser to log in again
    const home = await page.goto(`${two.hub.url}/hub/home`)
    expect(new URL(home!.url()).pathname).toBe('/hub/login')
  })
})
