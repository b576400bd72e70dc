// The example service (examples/whoami-oidc) in headless Chromium: a user logged in at the hub opens
// /services/whoami/, the service sends the browser through the hub's OpenID Connect provider
// (authorization code + PKCE, with openid-client), and shows the user's name, groups and admin flag.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { ROOT, startStack, type Stack } from '../../support/stack'
import { launchBrowser } from '../../support/browser'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'
import { addUser, rootOf } from '../../support/people'

const SECRET = 'whoami-example-client-secret-0123456789'
let stack: Stack
let browser: Browser

beforeAll(async () => {
  const port = await freePort('127.0.0.1')
  const proxyPort = await freePort('127.0.0.1')
  ;[stack, browser] = await Promise.all([
    startStack({
      port: proxyPort,
      services: [
        {
          name: 'whoami',
          url: `http://127.0.0.1:${port}`,
          command: ['node', join(ROOT, 'examples/whoami-oidc/server.mjs')],
          env: { OIDC_CLIENT_SECRET: SECRET },
        },
      ],
      oidc: {
        clients: [
          {
            clientId: 'whoami',
            clientSecret: SECRET,
            redirectUris: [`http://127.0.0.1:${proxyPort}/services/whoami/callback`],
          },
        ],
      },
    }),
    launchBrowser(),
  ])
  // the first admin with the CLI; ada added by root on the admin page, her group through the API
  const root = await rootOf(stack)
  await addUser(root, 'ada', { password: 'ada-password' })
  const group = await fetch(`${stack.url}/hub/api/groups/physics`, {
    method: 'POST',
    headers: { ...root.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ users: ['ada'] }),
  })
  expect(group.status).toBe(201)
  // the leader starts the service: wait until it answers through the proxy (sending a user to log in)
  await waitFor(
    'the whoami service',
    async () =>
      (await fetch(`${stack.url}/services/whoami/`, { headers: root.auth, redirect: 'manual' })).status === 302,
    { timeoutMs: 30_000 },
  )
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await stack?.stop()
})

describe('the whoami example service', () => {
  it('logs a hub user in through OpenID Connect and shows who they are', async () => {
    const page = await (await browser.newContext()).newPage()
    await page.goto(`${stack.url}/services/whoami/`)
    expect(new URL(page.url()).pathname).toBe('/hub/login')
    await page.fill('#username', 'ada')
    await page.fill('#password', 'ada-password')
    await page.click('#login_submit')
    await page.waitForURL(/\/services\/whoami\/$/, { timeout: 20_000 })
    expect(await page.textContent('#name')).toBe('ada')
    expect(await page.textContent('#groups')).toBe('physics')
    expect(await page.textContent('#admin')).toBe('no')
    // a second visit uses the service's own session: no round trip through the hub
    const hops: string[] = []
    page.on('framenavigated', (f) => f === page.mainFrame() && hops.push(f.url()))
    await page.goto(`${stack.url}/services/whoami/`)
    expect(hops.every((u) => !u.includes('/hub/'))).toBe(true)
    expect(await page.textContent('#name')).toBe('ada')
  })
})
