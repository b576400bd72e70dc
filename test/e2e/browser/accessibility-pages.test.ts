// Every page a person can land on, in Chromium: the login page from the root URL, sign-up, home,
// the spawn options form, spawn-pending, token, two-factor, sharing, accept-share, the admin pages,
// the hub's error pages and the proxy's own. Each is scanned with axe-core (0 serious or critical
// violations) in the light and the dark theme, and opened 375 px wide (a phone) where the page
// must not scroll sideways; a screenshot of each of the three is kept.
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs'
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

let browser: Browser
let stack: Stack
let root: Admin
let gates: string

beforeAll(async () => {
  browser = await launchBrowser()
  gates = mkdtempSync(join(tmpdir(), 'eh-gates-'))
  chmodSync(gates, 0o755)
  const spawner = gatedSpawner(join(gates, '{user}'))
  stack = await startStack({
    hub: { allowNamedServers: true },
    spawner: {
      'local-process': {
        ...spawner['local-process'],
        profiles: [
          { slug: 'small', displayName: 'Small', description: 'One core', default: true, overrides: {} },
          { slug: 'large', displayName: 'Large', description: 'Two cores', overrides: {} },
        ],
      },
    },
    auth: { native: { scryptCost: 1024, allowSignup: true, allow2fa: true, issuer: 'Test Hub' } },
    roles: [{ name: 'user', scopes: ['self', 'shares!user', 'read:users:name', 'read:groups:name'] }],
  })
  root = await rootOf(stack)
}, 120_000)
afterAll(async () => {
  await browser?.close()
  await stack?.stop()
  if (gates) rmSync(gates, { recursive: true, force: true })
})

/** Light and dark: no serious violation; 375 px wide: no sideways scroll. Screenshots of each. */
async function checkEveryWay(page: Page, name: string) {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme })
    expect({ page: name, scheme, violations: await accessibilityViolations(page) }).toEqual({
      page: name,
      scheme,
      violations: [],
    })
    await screenshot(page, `page-${name}-${scheme}`)
  }
  await page.emulateMedia({ colorScheme: 'light' })
  const size = page.viewportSize()
  await page.setViewportSize({ width: 375, height: 740 })
  const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')
  expect({ page: name, overflow }).toEqual({ page: name, overflow: 0 })
  await screenshot(page, `page-${name}-phone`)
  if (size) await page.setViewportSize(size)
}

describe('every page, light, dark and phone-wide', () => {
  it('the pages before a login: the login page from the root URL (and a refused login), sign-up', async () => {
    const page = await (await browser.newContext()).newPage()
    await page.goto(`${stack.url}/`)
    expect(new URL(page.url()).pathname).toBe('/hub/login')
    await checkEveryWay(page, 'login')
    await page.fill('#username', 'nobody')
    await page.fill('#password', 'wrong-password')
    await page.click('#login_submit')
    await page.locator('.error').waitFor()
    await checkEveryWay(page, 'login-failed')
    await page.goto(`${stack.url}/hub/signup`)
    await checkEveryWay(page, 'signup')
  }, 240_000)

  it("a person's pages: home, spawn options, spawn-pending, token, two-factor, sharing, accept-share, 405, 404", async () => {
    const ann = await person(root, 'ann')
    const page = await logInInBrowser(browser, stack.url, ann, '/hub/home')
    await checkEveryWay(page, 'home')
    await page.goto(`${stack.url}/hub/spawn`)
    await page.locator('form').first().waitFor()
    await checkEveryWay(page, 'spawn-options')
    await page.goto(`${stack.url}/hub/spawn/ann/lab`)
    await checkEveryWay(page, 'spawn-named')
    // ann's gate is closed: her server stays pending
    await page.goto(`${stack.url}/hub/spawn`)
    await page.locator('button[type=submit]').first().click()
    await page.waitForURL(/\/hub\/spawn-pending\/ann/)
    await checkEveryWay(page, 'spawn-pending')
    await page.goto(`${stack.url}/hub/token`)
    await checkEveryWay(page, 'token')
    await page.goto(`${stack.url}/hub/two-factor`)
    await checkEveryWay(page, 'two-factor')
    await page.goto(`${stack.url}/hub/share/ann/`)
    await checkEveryWay(page, 'sharing')
    const wrongMethod = await page.goto(`${stack.url}/hub/stop`)
    expect(wrongMethod?.status()).toBe(405)
    await checkEveryWay(page, 'method-not-allowed')
    const missing = await page.goto(`${stack.url}/hub/no-such-page`)
    expect(missing?.status()).toBe(404)
    await checkEveryWay(page, 'not-found')

    const code = await fetch(`${stack.url}/hub/api/share-codes/ann/`, {
      method: 'POST',
      headers: { ...ann.auth, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(code.status).toBe(200)
    const { accept_url } = (await code.json()) as { accept_url: string }
    const bo = await person(root, 'bo')
    const boPage = await logInInBrowser(browser, stack.url, bo, accept_url.slice(accept_url.indexOf('/hub/')))
    await boPage.locator('#accept').waitFor()
    await checkEveryWay(boPage, 'accept-share')
  }, 240_000)

  it('the admin pages', async () => {
    await person(root, 'cy')
    const page = await logInInBrowser(browser, stack.url, root, '/hub/admin')
    await checkEveryWay(page, 'admin')
    await page.goto(`${stack.url}/hub/admin/users/cy`)
    await checkEveryWay(page, 'admin-user')
    await page.goto(`${stack.url}/hub/admin/groups`)
    await checkEveryWay(page, 'admin-groups')
    await page.goto(`${stack.url}/hub/admin/hub`)
    await checkEveryWay(page, 'admin-hub')
  }, 240_000)

  it("the proxy's own pages: someone else's server (403) and the hub away (503)", async () => {
    const dee = await person(root, 'dee')
    const eli = await person(root, 'eli')
    writeFileSync(join(gates, 'dee'), '')
    chmodSync(join(gates, 'dee'), 0o644)
    await startServer(stack.url, dee.token, 'dee')
    const page = await logInInBrowser(browser, stack.url, eli, '/hub/home')
    const forbidden = await page.goto(`${stack.url}/user/dee/`)
    expect(forbidden?.status()).toBe(403)
    await checkEveryWay(page, 'proxy-forbidden')

    await stack.killHub()
    try {
      const away = await page.goto(`${stack.url}/hub/home`)
      expect(away?.status()).toBe(503)
      await checkEveryWay(page, 'proxy-hub-down')
    } finally {
      await stack.startHub()
    }
  }, 240_000)
})
