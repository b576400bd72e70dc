// An LTI 1.3 launch in Chromium: the simulated platform (test/support/lti-platform.ts) at
// http://localhost:PORT is another site than the hub at http://127.0.0.1:PORT, so the browser applies
// SameSite as it would between an LMS and the hub. The course page posts the login initiation to the
// hub, the hub sends the browser to the platform's authorization endpoint, the platform's page posts
// the id_token back (a cross-site POST, which carries no Lax cookie), the hub's relay page posts it
// again from its own origin with the login-flow cookie, and the person lands logged in on the
// launch's target. Another person's launch, posted from a platform page in this browser, is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { launchBrowser } from '../../support/browser'
import { Client, json } from '../../support/client'
import { issuedToken } from '../../support/people'
import { startStack, type Stack } from '../../support/stack'
import { ROLE, formOf, startSimulatedPlatform, type SimulatedPlatform } from '../../support/lti-platform'
import { freePort } from '../../../runtime/src/ports'

let stack: Stack
let platform: SimulatedPlatform
let browser: Browser

beforeAll(async () => {
  const port = await freePort()
  const hubUrl = `http://127.0.0.1:${port}`
  ;[platform, browser] = await Promise.all([
    startSimulatedPlatform({ toolUrl: hubUrl, host: 'localhost' }),
    launchBrowser(),
  ])
  stack = await startStack({
    port,
    publicUrl: hubUrl,
    auth: {
      kind: 'lti13',
      admins: ['hubroot'],
      allowedGroups: ['course-bio1'],
      manageGroups: true,
      lti13: { ...platform.settings(), usernameClaim: 'sub' },
    },
  })
}, 120_000)
afterAll(async () => {
  await browser?.close()
  await stack?.stop()
  await platform?.stop()
})

describe('an LTI launch in Chromium', () => {
  it('logs the person in from the course page and lands on the target', async () => {
    const page = await (await browser.newContext()).newPage()
    const posts: string[] = []
    page.on('request', (r) => r.method() === 'POST' && posts.push(`${r.url()} ${r.headers()['origin'] ?? ''}`))
    await page.goto(platform.coursePage({ sub: 'bio-ann', course: { id: 'bio1' }, roles: [ROLE.instructor] }))
    await page.waitForURL(`${stack.url}/hub/home`, { timeout: 30_000 })
    expect(await page.textContent('body')).toContain('bio-ann')
    // the platform's POST (from its origin), then the relay's (from the hub's)
    expect(posts.filter((p) => p.startsWith(`${stack.url}/hub/lti13/oauth_callback`))).toEqual([
      `${stack.url}/hub/lti13/oauth_callback ${platform.url}`,
      `${stack.url}/hub/lti13/oauth_callback ${stack.url}`,
    ])
    const admin = { authorization: `token ${issuedToken(stack, 'hubroot')}` }
    const model = await json(await fetch(`${stack.url}/hub/api/users/bio-ann`, { headers: admin }))
    expect([...model.groups].sort()).toEqual(['course-bio1', 'course-bio1-instructor'])
  })

  it('refuses, with a readable page, a launch this browser did not begin', async () => {
    // the platform's answer to a login the attacker began (in their own cookie jar)
    const attacker = new Client(stack.url)
    const init = platform.initiation({ sub: 'bio-eve', course: { id: 'bio1' } })
    const begun = await attacker.get(`/hub/lti13/oauth_login?${new URLSearchParams(init)}`)
    expect(begun.status).toBe(302)
    const launchForm = await (await fetch(begun.headers.get('location')!)).text()
    expect(launchForm).toContain('id_token')

    // the victim's browser is on a page of the platform (another site), which posts that form to the hub
    const victim = await (await browser.newContext()).newPage()
    await victim.goto(`${platform.url}/`)
    const { action, fields } = formOf(launchForm)
    await victim.evaluate(
      `(() => { const f = document.createElement('form'); f.method = 'post'; f.action = ${JSON.stringify(action)};
        for (const [k, v] of Object.entries(${JSON.stringify(fields)})) {
          const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i) }
        document.body.appendChild(f); f.submit() })()`,
    )
    await victim.waitForURL(`${stack.url}/hub/lti13/oauth_callback`, { timeout: 30_000 })
    await expect.poll(() => victim.textContent('body'), { timeout: 30_000 }).toContain('not begun in this browser')
    expect((await victim.context().cookies(stack.url)).some((c) => c.name === 'edgehub-session')).toBe(false)
  })
})
