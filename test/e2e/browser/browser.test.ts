// A person's whole session in headless Chromium: log in, start a server, watch progress,
// land in Jupyter, create a notebook, run 1+1 in a kernel through the proxy, log out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { startStack, type Stack } from '../../support/stack'
import { launchBrowser } from '../../support/browser'
import { cli } from '../../support/people'

let stack: Stack
let browser: Browser

beforeAll(async () => {
  ;[stack, browser] = await Promise.all([startStack(), launchBrowser()])
  cli(stack, ['user', 'add', 'ada', '--password-stdin'], 'ada-password') // an operator adds her on the hub's machine
})
afterAll(async () => {
  await browser?.close()
  await stack?.stop()
})

describe('a user in the browser', () => {
  it('logs in, starts a server, runs 1+1 in a notebook, and logs out', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    const visited: string[] = []
    page.on('framenavigated', (f) => f === page.mainFrame() && visited.push(new URL(f.url()).pathname))

    await page.goto(`${stack.url}/user/ada/tree`)
    expect(new URL(page.url()).pathname).toBe('/hub/login')
    await page.fill('#username', 'ada')
    await page.fill('#password', 'ada-password')
    await page.click('#login_submit')

    // /user/ada/tree -> /hub/user/ada/tree (not running) -> start -> progress page -> the server
    await page.waitForURL(/\/hub\/user\/ada\/tree/)
    await page.click('#start')
    await page.waitForURL(/\/user\/ada\/tree/, { timeout: 30_000 })
    expect(visited).toContain('/hub/spawn-pending/ada')
    expect(new URL(page.url()).pathname).toBe('/user/ada/tree')

    // New -> Python 3 opens the notebook in a new tab.
    await page.click('#new-dropdown-button')
    const [nb] = await Promise.all([context.waitForEvent('page'), page.click('#kernel-python3 a')])
    await nb.waitForLoadState()
    await nb.waitForFunction('window.Jupyter?.notebook?.kernel?.is_connected?.()', null, { timeout: 30_000 })
    await nb.click('.CodeMirror')
    await nb.keyboard.type('1+1')
    await nb.keyboard.press('Shift+Enter')
    const output = nb.locator('.output_area .output_text pre').first()
    await output.waitFor({ timeout: 20_000 })
    expect((await output.textContent())?.trim()).toBe('2')
    await nb.screenshot({ path: `${stack.dir}/notebook.png` })
    await nb.close()

    // Jupyter's own Logout button ends the hub session.
    await page.click('#logout')
    await page.waitForURL(/\/hub\/login/)
    await page.goto(`${stack.url}/user/ada/tree`)
    expect(new URL(page.url()).pathname).toBe('/hub/login')
    expect(new URL(page.url()).searchParams.get('next')).toBe('/user/ada/tree')
    await context.close()
  })
})
