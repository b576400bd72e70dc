// A person logging in in Chromium as people do: the hub's login page, the form, the submit button.
import type { Browser, Page } from 'playwright-core'

/**
 * Opens /hub/login (with `next` when given) in a new browser context, fills in the form and submits
 * it; waits until the browser has left the login page and returns the page.
 */
export async function logInInBrowser(
  browser: Browser,
  url: string,
  who: { name: string; password: string },
  next?: string,
): Promise<Page> {
  const page = await (await browser.newContext()).newPage()
  await page.goto(`${url}/hub/login${next ? `?next=${encodeURIComponent(next)}` : ''}`)
  await page.fill('#username', who.name)
  await page.fill('#password', who.password)
  await page.click('#login_submit')
  await page.waitForURL((u) => u.pathname !== '/hub/login', { timeout: 30_000 })
  return page
}
