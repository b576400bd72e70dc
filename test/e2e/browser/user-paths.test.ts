// The paths people take that start from a page or a setting: the home page's Stop button, the admin
// page (add a user, stop their server, approve a sign-up), named servers and their limit, tokens in
// the URL, admin access to other servers, scoped tokens from the CLI; then a second stack with the
// dummy authenticator, an https public URL, tokens in URLs turned off and admins from the config.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import type { Browser, Page } from 'playwright-core'
import { parse, stringify } from 'yaml'
import { BIN, startStack, type Stack } from '../../support/stack'
import { launchBrowser } from '../../support/browser'
import { Client, json } from '../../support/client'
import { waitFor } from '../../../runtime/src/wait'
import { echoSpawner } from '../../support/servers'

function cli(stack: Stack, args: string[], input?: string): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))
  const r = spawnSync(process.execPath, [BIN, ...args, '--config', stack.configFile], { input, encoding: 'utf8', env })
  if (r.status !== 0) throw new Error(`edgehub ${args.join(' ')}: ${r.stderr}`)
  return r.stdout.trim()
}

let browser: Browser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(() => browser?.close())

/** A person opens the hub's root and logs in through the form. */
async function logIn(stack: Stack, name: string, password: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage()
  await page.goto(`${stack.url}/`)
  await page.fill('#username', name)
  await page.fill('#password', password)
  await page.click('#login_submit')
  return page
}

const servers = async (stack: Stack, token: string, user: string) =>
  (await json(await fetch(`${stack.url}/hub/api/users/${user}`, { headers: { authorization: `token ${token}` } })))
    .servers as Record<string, { ready: boolean }>

describe('a shared hub (native accounts, sign-up, named servers, admin access)', () => {
  let stack: Stack
  let rootToken: string
  beforeAll(async () => {
    stack = await startStack({
      auth: { native: { scryptCost: 1024, allowSignup: true } },
      hub: { allowNamedServers: true, namedServerLimitPerUser: 1 },
      proxy: { adminAccess: true },
      spawner: echoSpawner(), // every user's server answers with the path, query and headers it was sent
    })
    cli(stack, ['user', 'add', 'root', '--admin', '--password-stdin'], 'root-password')
    rootToken = cli(stack, ['token', 'issue', 'root'])
  })
  afterAll(() => stack?.stop())

  /** A user made with the CLI, whose server runs (started through the API); their full token. */
  async function withServer(name: string): Promise<string> {
    cli(stack, ['user', 'add', name, '--password-stdin'], `${name}-password`)
    const token = cli(stack, ['token', 'issue', name])
    const auth = { authorization: `token ${token}` }
    expect([201, 202]).toContain(
      (await fetch(`${stack.url}/hub/api/users/${name}/server`, { method: 'POST', headers: auth })).status,
    )
    await waitFor(
      `${name}'s server`,
      async () => (await fetch(`${stack.url}/user/${name}/`, { headers: auth })).status === 200,
      { timeoutMs: 20_000 },
    )
    return token
  }

  it("starts a server from the login page and stops it with the home page's Stop button", async () => {
    const page = await logIn(stack, 'root', 'root-password')
    await page.waitForURL(/\/user\/root\/$/, { timeout: 30_000 })
    expect(JSON.parse((await page.textContent('body'))!).path).toBe('/user/root/')
    await page.goto(`${stack.url}/hub/home`)
    await page.click('#stop')
    await page.waitForURL(/\/hub\/home$/)
    await page.locator('#start').waitFor()
    expect(await servers(stack, rootToken, 'root')).toEqual({})
    await page.context().close()
  })

  it('lets an admin add a user on the admin page, who logs in; the admin stops their server there', async () => {
    const admin = await logIn(stack, 'root', 'root-password')
    // the login spawns root's server: wait for the landing in it, not the pending page on the way
    await admin.waitForURL(/\/user\/root\//, { timeout: 30_000 })
    await admin.goto(`${stack.url}/hub/admin`)
    await admin.fill('#username', 'nina')
    await admin.fill('#password', 'nina-password')
    await admin.click('button:has-text("Add user")')
    await admin.locator('text=nina was added').waitFor()

    const nina = await logIn(stack, 'nina', 'nina-password')
    await nina.waitForURL(/\/user\/nina\/$/, { timeout: 30_000 })
    expect((await servers(stack, rootToken, 'nina'))['']?.ready).toBe(true)

    await admin.goto(`${stack.url}/hub/admin`)
    await admin.locator('tr', { hasText: 'nina' }).locator('button:has-text("Stop server")').click()
    await admin.waitForURL(/\/hub\/admin/)
    expect(await servers(stack, rootToken, 'nina')).toEqual({})
    // nina's next request to her server finds it stopped
    await nina.goto(`${stack.url}/user/nina/tree`)
    expect(new URL(nina.url()).pathname).toBe('/hub/user/nina/tree')
    await nina.locator('#start').waitFor()
    await admin.context().close()
    await nina.context().close()
  })

  it("takes a sign-up through the admin's approval to a login through the proxy", async () => {
    const page = await (await browser.newContext()).newPage()
    await page.goto(`${stack.url}/`)
    await page.click('text=Sign up')
    await page.fill('#username', 'sara')
    await page.fill('#password', 'sara-password')
    await page.click('button:has-text("Create account")')
    await page.locator('text=An administrator must approve it').waitFor()
    await page.click('text=Back to log in')
    await page.fill('#username', 'sara')
    await page.fill('#password', 'sara-password')
    await page.click('#login_submit')
    await page.locator('[role=alert]', { hasText: 'approval' }).waitFor()

    const admin = await logIn(stack, 'root', 'root-password')
    // the login spawns root's server: wait for the landing in it, not the pending page on the way
    await admin.waitForURL(/\/user\/root\//, { timeout: 30_000 })
    await admin.goto(`${stack.url}/hub/admin`)
    await admin.locator('tr', { hasText: 'sara' }).locator('button:has-text("Approve")').click()
    await admin.locator('text=sara was approved').waitFor()

    await page.fill('#username', 'sara')
    await page.fill('#password', 'sara-password')
    await page.click('#login_submit')
    await page.waitForURL(/\/user\/sara\/$/, { timeout: 30_000 })
    await page.context().close()
    await admin.context().close()
  })

  it('starts a named server from its page, and refuses one beyond namedServerLimitPerUser with a reason', async () => {
    cli(stack, ['user', 'add', 'olga', '--password-stdin'], 'olga-password')
    const page = await logIn(stack, 'olga', 'olga-password')
    await page.waitForURL(/\/user\/olga\/$/, { timeout: 30_000 })
    await page.goto(`${stack.url}/hub/spawn/olga/work`)
    expect(new URL(page.url()).pathname).toBe('/hub/spawn/olga/work')
    await page.click('#start')
    await page.waitForURL(/\/user\/olga\/work\/$/, { timeout: 30_000 })
    expect(JSON.parse((await page.textContent('body'))!).path).toBe('/user/olga/work/')

    await page.goto(`${stack.url}/hub/spawn/olga/second`)
    await page.click('#start')
    await page.locator('text=limit 1').waitFor({ timeout: 10_000 })
    expect(Object.keys(await servers(stack, rootToken, 'olga')).sort()).toEqual(['', 'work'])
    await page.context().close()
  })

  it('accepts ?token= (hub.tokenInQuery, the default) and never passes it on to the server', async () => {
    const token = await withServer('tia')
    expect((await fetch(`${stack.url}/hub/api/user?token=${token}`)).status).toBe(200)
    // the other parameters reach the server as sent, in their order; every spelling of token goes
    for (const [query, passed] of [
      [`y=2&token=${token}&x=1`, 'y=2&x=1'],
      [`x=1&TOKEN=${token}&y=%2F`, 'x=1&y=%2F'],
      [`token=${token}`, ''],
    ]) {
      const res = await fetch(`${stack.url}/user/tia/files?${query}`, { redirect: 'manual' })
      expect(res.status, query).toBe(200)
      const seen = (await res.json()) as { path: string; headers: Record<string, string> }
      expect(seen.path, query).toBe(passed ? `/user/tia/files?${passed}` : '/user/tia/files')
      expect(JSON.stringify(seen), query).not.toContain(token)
    }
  })

  it("lets an admin open another user's server when proxy.adminAccess is set in the config file", async () => {
    await withServer('ivy')
    const admin = await logIn(stack, 'root', 'root-password')
    // the login spawns root's server: wait for the landing in it, not the pending page on the way
    await admin.waitForURL(/\/user\/root\//, { timeout: 30_000 })
    await admin.goto(`${stack.url}/user/ivy/`)
    expect(JSON.parse((await admin.textContent('body'))!).path).toBe('/user/ivy/')
    await admin.context().close()
    // and a user who is not an admin may not
    cli(stack, ['user', 'add', 'noel', '--password-stdin'], 'noel-password')
    const noel = new Client(stack.url)
    expect((await noel.login('noel', 'noel-password')).status).toBe(302)
    expect((await noel.get('/user/ivy/')).status).toBe(403)
  })

  it('gives a token issued with --scopes exactly those scopes, through the proxy', async () => {
    const full = await withServer('una')
    const token = cli(stack, ['token', 'issue', 'una', '--scopes', 'read:users:name!user=una'])
    const get = (path: string) =>
      fetch(`${stack.url}${path}`, { headers: { authorization: `token ${token}` }, redirect: 'manual' })
    const me = await get('/hub/api/users/una')
    expect(me.status).toBe(200)
    expect(await me.json()).toEqual(expect.objectContaining({ name: 'una' }))
    expect((await get('/hub/api/users/root')).status).toBe(404) // not visible to this token
    expect((await get('/user/una/')).status).toBe(403) // no access:servers
    expect((await fetch(`${stack.url}/user/una/`, { headers: { authorization: `token ${full}` } })).status).toBe(200)
  })
})

describe('a trial hub (dummy authenticator, https public URL, no tokens in URLs)', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({
      publicUrl: 'https://hub.example.test',
      auth: { kind: 'dummy', admins: ['boss'] },
      hub: { tokenInQuery: false },
      // admins without access:servers (JupyterHub's admin role has it; proxy.adminAccess: false drops it)
      proxy: { adminAccess: false },
      spawner: echoSpawner(), // every user's server answers with the path, query and headers it was sent
    })
  })
  afterAll(() => stack?.stop())

  it('logs anyone in with any password, warns at startup, and sets Secure cookies', async () => {
    const log = readFileSync(`${stack.dir}/hub.log`, 'utf8')
    expect(log).toContain('auth.kind=dummy accepts any user name and password')
    const client = new Client(stack.url)
    const form = await client.get('/hub/login')
    expect(form.headers.getSetCookie().find((c) => c.startsWith('edgehub-xsrf='))).toMatch(/;\s*Secure/i)
    const login = await client.login('carl', 'whatever it is')
    expect(login.status).toBe(302)
    const cookies = login.headers.getSetCookie()
    const session = cookies.find((c) => c.startsWith('edgehub-session='))!
    expect(session).toMatch(/;\s*Secure/i)
    expect(session).toMatch(/;\s*HttpOnly/i)
    expect(await json(await client.api('GET', '/user'))).toMatchObject({ name: 'carl', admin: false })
  })

  it('refuses ?token= when hub.tokenInQuery is off, at the hub and at the proxy', async () => {
    const token = cli(stack, ['token', 'issue', 'boss'])
    expect((await fetch(`${stack.url}/hub/api/user`, { headers: { authorization: `token ${token}` } })).status).toBe(
      200,
    )
    expect((await fetch(`${stack.url}/hub/api/user?token=${token}`)).status).toBe(403)
    expect((await fetch(`${stack.url}/hub/api/users/boss/server?token=${token}`, { method: 'POST' })).status).toBe(403)
    const boss = await fetch(`${stack.url}/hub/api/users/boss/server`, {
      method: 'POST',
      headers: { authorization: `token ${token}` },
    })
    expect([201, 202]).toContain(boss.status)
    await waitFor(
      "boss's server",
      async () =>
        (await fetch(`${stack.url}/user/boss/`, { headers: { authorization: `token ${token}` } })).status === 200,
      { timeoutMs: 20_000 },
    )
    const viaQuery = await fetch(`${stack.url}/user/boss/?token=${token}`, { redirect: 'manual' })
    expect(viaQuery.status).toBe(302)
    expect(viaQuery.headers.get('location')).toMatch(/^\/hub\/login\?next=/)
  })

  it("makes a user listed in auth.admins an admin at the next start, and keeps others' servers from admins without adminAccess", async () => {
    const carl = new Client(stack.url)
    await carl.login('carl', 'x')
    expect((await json(await carl.api('GET', '/user'))).admin).toBe(false)
    expect([201, 202]).toContain((await carl.api('POST', '/users/carl/server')).status)
    await waitFor("carl's server", async () => (await carl.get('/user/carl/')).status === 200, { timeoutMs: 20_000 })
    const boss = new Client(stack.url)
    await boss.login('boss', 'x')
    expect((await boss.get('/user/carl/')).status).toBe(403) // proxy.adminAccess: false

    const config = parse(readFileSync(stack.configFile, 'utf8'))
    config.auth.admins = ['boss', 'carl']
    writeFileSync(stack.configFile, stringify(config))
    await stack.killHub('SIGTERM')
    await stack.startHub()
    expect((await json(await carl.api('GET', '/user'))).admin).toBe(true)
  })
})
