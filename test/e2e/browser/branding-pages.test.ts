// Branding set through the config file, as an operator sets it, seen in Chromium from the root URL:
// the site's name and logo in the header, the primary colour on the buttons, the login page's text
// and banner, the site-wide banner, a footer from the template folder, the dark theme toggle kept
// across pages, and the proxy's own 503 page replaced by the folder's proxy-503.html.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { startStack, type Stack } from '../../support/stack'
import { launchBrowser } from '../../support/browser'
import { logInInBrowser } from '../../support/browser-login'
import { accessibilityViolations, screenshot } from '../../support/page-check'
import { person, rootOf, type Admin } from '../../support/people'

// a 1x1 PNG
const LOGO = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
)
const SITE = 'Physics & <Chem> Hub'

let browser: Browser
let stack: Stack
let root: Admin
let dir: string

beforeAll(async () => {
  browser = await launchBrowser()
  dir = mkdtempSync(join(tmpdir(), 'eh-brand-'))
  chmodSync(dir, 0o755)
  const templates = join(dir, 'templates')
  mkdirSync(templates)
  writeFileSync(join(dir, 'logo.png'), LOGO)
  writeFileSync(
    join(templates, 'footer.html'),
    '<footer id="site-footer" style="text-align:center;padding:1rem">Run by {{site_name}} IT</footer>',
  )
  writeFileSync(
    join(templates, 'proxy-503.html'),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{status}} {{title}}</title></head>' +
      '<body><main><h1 id="custom-503">{{title}}</h1><p>{{message}}. Status page: status.example.org</p></main></body></html>',
  )
  stack = await startStack({
    ui: {
      siteName: SITE,
      logo: join(dir, 'logo.png'),
      primaryColour: '#1b5e20',
      linkColour: '#004d99',
      loginText: 'Use your university account.',
      announcement: 'Maintenance on Friday 18:00-20:00.',
      announcementLogin: 'New users: ask the helpdesk for an account.',
      templatePath: templates,
    },
  })
  root = await rootOf(stack)
}, 120_000)
afterAll(async () => {
  await browser?.close()
  await stack?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('branding from the config file', () => {
  it('shows the name, logo, colours, login text, banners and footer on the login page opened from the root URL', async () => {
    const page = await (await browser.newContext()).newPage()
    await page.goto(`${stack.url}/`)
    expect(new URL(page.url()).pathname).toBe('/hub/login')
    expect(await page.title()).toBe(`Log in · ${SITE}`)
    expect(await page.locator('header .brand').innerText()).toBe(SITE)
    expect(await page.locator('header .brand img').getAttribute('src')).toBe(
      `data:image/png;base64,${LOGO.toString('base64')}`,
    )
    expect(await page.locator('#login-text').innerText()).toBe('Use your university account.')
    expect(await page.locator('#announcement').innerText()).toBe('Maintenance on Friday 18:00-20:00.')
    expect(await page.locator('#announcement-login').innerText()).toBe('New users: ask the helpdesk for an account.')
    expect(await page.locator('#site-footer').innerText()).toBe(`Run by ${SITE} IT`)
    expect(await page.evaluate("getComputedStyle(document.getElementById('login_submit')).backgroundColor")).toBe(
      'rgb(27, 94, 32)',
    )
    expect(await accessibilityViolations(page)).toEqual([])
    await screenshot(page, 'branding-login')
    await page.emulateMedia({ colorScheme: 'dark' })
    expect(await accessibilityViolations(page)).toEqual([])
    await screenshot(page, 'branding-login-dark')
  }, 120_000)

  it('keeps the site banner (not the login one) on other pages, and the dark theme chosen with the toggle', async () => {
    const ann = await person(root, 'ann')
    const page = await logInInBrowser(browser, stack.url, ann, '/hub/token')
    expect(await page.locator('#announcement').innerText()).toBe('Maintenance on Friday 18:00-20:00.')
    expect(await page.locator('#announcement-login').count()).toBe(0)
    const background = () => page.evaluate('getComputedStyle(document.body).backgroundColor')
    expect(await background()).toBe('rgb(246, 248, 250)')
    expect(await page.locator('#theme-toggle').getAttribute('aria-pressed')).toBe('false')
    await page.locator('#theme-toggle').focus()
    await page.keyboard.press('Enter')
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark')
    expect(await page.locator('#theme-toggle').getAttribute('aria-pressed')).toBe('true')
    // another page: the choice is remembered
    await page.goto(`${stack.url}/hub/home`)
    expect(await background()).toBe('rgb(13, 17, 23)')
    expect(await accessibilityViolations(page)).toEqual([])
    await screenshot(page, 'branding-home-dark-toggle')
    await page.locator('#theme-toggle').click()
    await page.reload()
    expect(await background()).toBe('rgb(246, 248, 250)')
  }, 120_000)

  it("replaces the proxy's 503 page with the folder's proxy-503.html, values escaped", async () => {
    const page = await (await browser.newContext()).newPage()
    await stack.killHub()
    try {
      const res = await page.goto(`${stack.url}/hub/login`)
      expect(res?.status()).toBe(503)
      expect(await page.locator('#custom-503').innerText()).toBe('Hub unavailable')
      expect(await page.title()).toBe('503 Hub unavailable')
      expect(await page.locator('main p').innerText()).toContain('the hub is temporarily unavailable. Status page')
      expect(await accessibilityViolations(page)).toEqual([])
      await screenshot(page, 'branding-proxy-503')
    } finally {
      await stack.startHub()
    }
  }, 120_000)
})
