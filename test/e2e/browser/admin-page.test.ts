// The admin page as an admin uses it, in Chromium: log in at /hub/login, click Admin, then page,
// search, sort and filter the users table; add, edit (rename, admin flag) and delete users; start,
// stop and open default and named servers; start and stop a selection with progress (with and
// without JavaScript); groups (create, members, properties, delete); the hub's page. Each state is
// scanned for accessibility and kept as a screenshot. Then the attacks: a user without admin-ui, a
// helper whose scopes cover one group, and another site's form posts (no XSRF field) can do nothing
// more than the REST API would let them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { startStack, type Stack } from '../../support/stack'
import { launchBrowser } from '../../support/browser'
import { json } from '../../support/client'
import { okServerSpawner } from '../../support/servers'
import { accessibilityViolations, screenshot } from '../../support/page-check'
import { person, rootOf, type Admin } from '../../support/people'
import { waitFor } from '../../../runtime/src/wait'

let browser: Browser
let stack: Stack
let root: Admin
/** Users made through the API for the table's pages: pupil-00 … pupil-29. */
const PUPILS = Array.from({ length: 30 }, (_, i) => `pupil-${String(i).padStart(2, '0')}`)

beforeAll(async () => {
  browser = await launchBrowser()
  stack = await startStack({
    hub: { allowNamedServers: true },
    spawner: okServerSpawner(),
    roles: [
      // a teaching assistant: the admin page, and the servers of the class group's members only
      {
        name: 'class-helper',
        scopes: ['admin-ui', 'list:users!group=class', 'read:users!group=class', 'servers!group=class'],
        users: ['tess'],
      },
    ],
  })
  root = await rootOf(stack)
  const made = await fetch(`${stack.url}/hub/api/users`, {
    method: 'POST',
    headers: { ...root.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ usernames: PUPILS }),
  })
  expect(made.status).toBe(201)
})
afterAll(async () => {
  await browser?.close()
  await stack?.stop()
})

/** A person logs in through the form in a new browser context; the page once the login landed. */
async function logInInBrowser(who: { name: string; password: string }, opts: { javaScript?: boolean } = {}) {
  const page = await (await browser.newContext({ javaScriptEnabled: opts.javaScript ?? true })).newPage()
  await page.goto(`${stack.url}/hub/login`)
  await page.fill('#username', who.name)
  await page.fill('#password', who.password)
  await page.click('#login_submit')
  await page.waitForURL((u) => u.pathname !== '/hub/login', { timeout: 30_000 })
  return page
}

/** The admin page through the header's Admin link, as a person gets there. */
async function openAdmin(page: Page): Promise<void> {
  await page.goto(`${stack.url}/hub/home`)
  await page.locator('header a', { hasText: 'Admin' }).click()
  await page.waitForURL(/\/hub\/admin$/)
}

async function checked(page: Page, name: string): Promise<void> {
  expect(await accessibilityViolations(page)).toEqual([])
  await screenshot(page, `admin-${name}`)
}

const userNames = (page: Page) =>
  page.locator('#users tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-user')))
const rowOf = (page: Page, name: string) => page.locator(`#users tr[data-user="${name}"]`)
const noticeOf = (page: Page) => page.locator('.notice[role=status]').innerText()

async function model(name: string): Promise<any> {
  const r = await fetch(`${stack.url}/hub/api/users/${name}?include_stopped_servers=1`, { headers: root.auth })
  return r.status === 404 ? null : json(r)
}

describe('the admin page, as an admin uses it', { timeout: 180_000 }, () => {
  it('pages, searches, sorts and filters the users table', async () => {
    const page = await logInInBrowser(root)
    await openAdmin(page)
    await checked(page, 'users')
    // what the API lists for the same query: the table shows that
    const listed = async (query: string): Promise<string[]> =>
      (await json(await fetch(`${stack.url}/hub/api/users?limit=200&${query}`, { headers: root.auth }))).map(
        (u: { name: string }) => u.name,
      )
    const all = await listed('')
    expect(all.length).toBeGreaterThan(26)
    expect(await page.locator('#user-count').innerText()).toBe(`Users 1–${all.length} of ${all.length}`)

    await page.selectOption('#per_page', '25')
    await page.click('#apply-filters')
    await page.waitForURL(/per_page=25/)
    expect(await page.locator('#user-count').innerText()).toBe(`Users 1–25 of ${all.length}`)
    expect(await userNames(page)).toEqual(all.slice(0, 25))
    await page.getByRole('link', { name: 'Next page' }).click()
    await page.waitForURL(/page=2/)
    expect(await page.locator('#user-count').innerText()).toBe(`Users 26–${Math.min(50, all.length)} of ${all.length}`)
    expect(await userNames(page)).toEqual(all.slice(25, 50))
    await checked(page, 'users-page-2')

    // search: JupyterHub's name_filter (contains, ignoring case), from the first page
    await page.fill('#q', 'PUPIL-1')
    await page.click('#apply-filters')
    await page.waitForURL(/q=PUPIL-1/)
    expect(await userNames(page)).toEqual(PUPILS.slice(10, 20))
    await checked(page, 'users-search')

    // root's login started a server: first when running servers come first, and among the active
    await page.goto(`${stack.url}/hub/admin`)
    await page.selectOption('#sort', 'running')
    await page.click('#apply-filters')
    await page.waitForURL(/sort=running/)
    const active = await listed('state=active')
    expect(active).toContain('root')
    expect((await userNames(page)).slice(0, active.length).sort()).toEqual([...active].sort())
    // a page that lies among the running users is read from the set of active servers alone: the same
    const firstRunning = await json(
      await fetch(`${stack.url}/hub/api/users?sort=running&limit=1`, { headers: root.auth }),
    )
    expect(firstRunning.map((u: { name: string }) => u.name)).toEqual((await userNames(page)).slice(0, 1))
    await page.selectOption('#sort', 'last_activity')
    await page.selectOption('#order', 'desc')
    await page.click('#apply-filters')
    await page.waitForURL(/sort=last_activity&order=desc/)
    expect((await userNames(page)).slice(0, 3)).toEqual((await listed('sort=-last_activity')).slice(0, 3))
    expect((await userNames(page)).at(-1)).toBe('pupil-00') // no activity: by name, reversed
    await page.check('#active')
    await page.click('#apply-filters')
    await page.waitForURL(/active=1/)
    expect(await userNames(page)).toEqual(await listed('state=active&sort=-last_activity'))
    await checked(page, 'users-active')
    await page.context().close()
  })

  it('adds a user, renames them, makes them an admin and deletes them', async () => {
    const page = await logInInBrowser(root)
    await openAdmin(page)
    await page.fill('#username', 'newbie')
    await page.fill('#password', 'newbie-password-1')
    await page.click('#add-user')
    await page.waitForURL(/notice=/)
    expect(await noticeOf(page)).toBe('newbie was added')
    expect((await model('newbie')).admin).toBe(false)

    await page.fill('#q', 'newbie')
    await page.click('#apply-filters')
    await rowOf(page, 'newbie').getByRole('link', { name: 'Edit newbie' }).click()
    await page.waitForURL(/\/hub\/admin\/users\/newbie$/)
    await checked(page, 'user')
    await page.fill('#new-name', 'veteran')
    await page.check('#edit-admin')
    await page.click('#save-user')
    await page.waitForURL(/\/hub\/admin\/users\/veteran\?notice=/)
    expect(await noticeOf(page)).toBe('newbie: renamed to veteran, now an admin')
    expect(await model('newbie')).toBeNull()
    expect((await model('veteran')).admin).toBe(true)
    await checked(page, 'user-edited')

    await page.uncheck('#edit-admin')
    await page.click('#save-user')
    await page.waitForURL(/notice=/)
    expect((await model('veteran')).admin).toBe(false)

    await page.check('#confirm-delete')
    await page.click('#delete-user')
    await page.waitForURL(/\/hub\/admin\?notice=/)
    expect(await noticeOf(page)).toBe('veteran was deleted')
    expect(await model('veteran')).toBeNull()
    await page.context().close()
  })

  it('starts, opens and stops default and named servers', async () => {
    const page = await logInInBrowser(root)
    await page.goto(`${stack.url}/hub/admin?q=pupil-03`)
    await rowOf(page, 'pupil-03').getByRole('button', { name: 'Start server for pupil-03' }).click()
    await page.waitForURL(/notice=/)
    expect(await noticeOf(page)).toBe("pupil-03's server is starting")
    await waitFor('pupil-03 running', async () => (await model('pupil-03')).servers['']?.ready === true, {
      timeoutMs: 30_000,
    })
    await page.reload()
    expect(await rowOf(page, 'pupil-03').locator('.status').innerText()).toBe('running')
    await checked(page, 'users-running')
    // open ("access"): the admin reaches the user's server through the proxy
    await rowOf(page, 'pupil-03').getByRole('link', { name: 'Open server for pupil-03' }).click()
    await page.waitForURL(/\/user\/pupil-03\/$/)
    expect(await page.locator('body').innerText()).toBe('ok')

    // a named server, from the user's page
    await page.goto(`${stack.url}/hub/admin/users/pupil-03`)
    await page.fill('#new-server', 'gpu')
    await page.click('#start-named')
    await page.waitForURL(/notice=/)
    expect(await noticeOf(page)).toBe("pupil-03's server gpu is starting")
    await waitFor('gpu running', async () => (await model('pupil-03')).servers.gpu?.ready === true, {
      timeoutMs: 30_000,
    })
    await page.reload()
    const gpu = page.locator('#servers tr[data-server="gpu"]')
    expect(await gpu.locator('.status').innerText()).toBe('running')
    expect(await gpu.getByRole('link', { name: 'Open gpu' }).getAttribute('href')).toBe('/user/pupil-03/gpu/')
    await checked(page, 'user-servers')
    await gpu.getByRole('button', { name: 'Stop gpu' }).click()
    await page.waitForURL(/notice=/)
    await page.locator('#servers tr[data-server=""]').getByRole('button', { name: 'Stop default server' }).click()
    await page.waitForURL(/notice=/)
    await waitFor('both stopped', async () => Object.keys((await model('pupil-03')).servers).length === 2, {
      timeoutMs: 30_000,
    })
    const servers = (await model('pupil-03')).servers
    expect([servers[''].stopped, servers.gpu.stopped]).toEqual([true, true])
    await page.reload()
    expect(await page.locator('#servers .status').allInnerTexts()).toEqual(['stopped', 'stopped'])
    await page.context().close()
  })

  it('starts a selection with progress shown, and stops it without JavaScript', async () => {
    const chosen = ['pupil-05', 'pupil-06', 'pupil-07']
    const page = await logInInBrowser(root)
    await page.goto(`${stack.url}/hub/admin?q=pupil-0`)
    for (const u of chosen) await page.getByRole('checkbox', { name: `Select ${u}` }).check()
    await page.click('#start-selected')
    await page.locator('#bulk-progress', { hasText: 'Starting: 3 of 3 done.' }).waitFor({ timeout: 60_000 })
    expect(await page.locator('#bulk-bar').evaluate((b) => (b as unknown as { value: number }).value)).toBe(3)
    await checked(page, 'bulk-progress')
    for (const u of chosen)
      await waitFor(`${u} running`, async () => (await model(u)).servers['']?.ready === true, { timeoutMs: 30_000 })

    const plain = await logInInBrowser(root, { javaScript: false })
    await plain.goto(`${stack.url}/hub/admin?q=pupil-0`)
    for (const u of chosen) await plain.getByRole('checkbox', { name: `Select ${u}` }).check()
    await plain.click('#stop-selected')
    await plain.waitForURL(/notice=/)
    expect(await noticeOf(plain)).toBe('Stopped 3 of 3 servers')
    expect(new URL(plain.url()).searchParams.get('q')).toBe('pupil-0') // back where it was
    // each stop was done (or under way) when the answer came
    for (const u of chosen)
      await waitFor(`${u} stopped`, async () => (await model(u)).servers[''].stopped === true, { timeoutMs: 30_000 })
    // axe runs as a script: the scan is of the same page in the browser with JavaScript
    await screenshot(plain, 'admin-bulk-no-script')
    // a navigation from the page itself (same origin), as the form's redirect is: the notice shows
    await page.evaluate(`location.href = ${JSON.stringify(plain.url())}`)
    await page.waitForURL(plain.url())
    expect(await noticeOf(page)).toBe('Stopped 3 of 3 servers')
    expect(await accessibilityViolations(page)).toEqual([])
    await page.context().close()
    await plain.context().close()
  })

  it('creates a group, adds and removes members, edits its properties and deletes it', async () => {
    const page = await logInInBrowser(root)
    await openAdmin(page)
    await page.getByRole('link', { name: 'Groups' }).click()
    await page.waitForURL(/\/hub\/admin\/groups$/)
    await checked(page, 'groups')
    await page.fill('#group-name', 'physics')
    await page.click('#create-group')
    await page.waitForURL(/\/hub\/admin\/groups\/physics\?notice=/)
    await page.fill('#member-name', 'pupil-01, pupil-02 pupil-04')
    await page.click('#add-member')
    await page.waitForURL(/notice=/)
    expect(
      await page.locator('#members tbody tr').evaluateAll((r) => r.map((x) => x.getAttribute('data-user'))),
    ).toEqual(['pupil-01', 'pupil-02', 'pupil-04'])
    await page.getByRole('button', { name: 'Remove pupil-02 from physics' }).click()
    await page.waitForURL(/notice=/)
    await page.fill('#properties', '{"course": "PHY101"}')
    await page.click('#save-properties')
    await page.waitForURL(/notice=/)
    await checked(page, 'group')
    const g = await json(await fetch(`${stack.url}/hub/api/groups/physics`, { headers: root.auth }))
    expect({ users: [...g.users].sort(), properties: g.properties }).toEqual({
      users: ['pupil-01', 'pupil-04'],
      properties: { course: 'PHY101' },
    })
    // bad properties: the API's refusal, as a readable page
    await page.fill('#properties', '[1, 2]')
    await page.click('#save-properties')
    expect(await page.locator('main').innerText()).toContain('Properties must be a JSON object.')
    await page.goto(`${stack.url}/hub/admin/groups/physics`)
    await page.check('#confirm-delete')
    await page.click('#delete-group')
    await page.waitForURL(/\/hub\/admin\/groups\?notice=/)
    expect(await noticeOf(page)).toBe('Group physics was deleted')
    expect((await fetch(`${stack.url}/hub/api/groups/physics`, { headers: root.auth })).status).toBe(404)
    await page.context().close()
  })

  it('shows the hub: version, leader, users and the proxies’ change stream', async () => {
    const page = await logInInBrowser(root)
    await openAdmin(page)
    await page.getByRole('link', { name: 'Hub', exact: true }).click()
    await page.waitForURL(/\/hub\/admin\/hub$/)
    const info = await page.locator('#hub-info').innerText()
    const health = await json(await fetch(`${stack.url}/hub/health`))
    expect(info).toContain(health.version)
    expect(info).toMatch(/Users\s+\d+/)
    await waitFor('a leader', async () => (await json(await fetch(`${stack.url}/hub/health`))).leader === true, {
      timeoutMs: 15_000,
    })
    await page.reload()
    expect(await page.locator('#replicas').innerText()).toContain(
      (await json(await fetch(`${stack.url}/hub/health`))).replica,
    )
    expect(await page.locator('#proxies').innerText()).toMatch(/Routing table version\s+[1-9]/)
    await checked(page, 'hub')
    await page.context().close()
  })
})

describe('what others cannot do on the admin page', { timeout: 180_000 }, () => {
  it('a user without admin-ui gets 403 for the page and every action, and nothing changes', async () => {
    const ada = await person(root, 'ada')
    const page = await logInInBrowser({ name: 'ada', password: ada.password })
    await page.goto(`${stack.url}/hub/home`)
    expect(await page.locator('header a', { hasText: 'Admin' }).count()).toBe(0)
    for (const path of ['/hub/admin', '/hub/admin/users/pupil-00', '/hub/admin/groups', '/hub/admin/hub']) {
      const res = await page.goto(`${stack.url}${path}`)
      expect([path, res!.status()]).toEqual([path, 403])
    }
    await checked(page, 'forbidden')
    // her own session and XSRF token, posting every admin form
    const posts: Array<[string, Record<string, string>]> = [
      ['/hub/admin/users', { username: 'mallory', password: 'mallory-password-1', admin: '1' }],
      ['/hub/admin/users/pupil-00/edit', { name: 'pupil-00', admin: '1' }],
      ['/hub/admin/users/ada/edit', { name: 'ada', admin: '1' }],
      ['/hub/admin/users/pupil-00/delete', { confirm: 'pupil-00' }],
      ['/hub/admin/users/pupil-00/servers/start', { server: '' }],
      ['/hub/admin/bulk', { action: 'start', users: 'pupil-00' }],
      ['/hub/admin/groups', { name: 'evil' }],
      ['/hub/admin/approve/pupil-00', {}],
    ]
    for (const [path, fields] of posts) {
      const res = await ada.client.postForm(path, fields)
      expect([path, res.status]).toEqual([path, 403])
    }
    expect(await model('mallory')).toBeNull()
    expect((await model('ada')).admin).toBe(false)
    expect((await model('pupil-00')).servers['']?.stopped ?? true).toBe(true)
    expect((await fetch(`${stack.url}/hub/api/groups/evil`, { headers: root.auth })).status).toBe(404)
    await page.context().close()
  })

  it("another site's form posts, without the XSRF field, change nothing for a logged-in admin", async () => {
    const page = await logInInBrowser(root)
    const forms = [
      ['/hub/admin/users', 'username=mallory&password=mallory-password-1&admin=1'],
      ['/hub/admin/users/pupil-08/delete', 'confirm=pupil-08'],
      ['/hub/admin/users/pupil-08/servers/start', 'server='],
      ['/hub/admin/bulk', 'action=start&users=pupil-08'],
      ['/hub/admin/groups', 'name=evil'],
    ]
    const site: Server = createServer((req, res) => {
      const i = Number(new URL(req.url!, 'http://x').searchParams.get('i'))
      const [action, body] = forms[i]
      const inputs = [...new URLSearchParams(body)]
        .map(([k, v]) => `<input type="hidden" name="${k}" value="${v}">`)
        .join('')
      res.setHeader('content-type', 'text/html')
      res.end(
        `<!doctype html><title>win</title><form id="f" method="post" action="${stack.url}${action}">${inputs}</form><script>document.getElementById('f').submit()</script>`,
      )
    })
    await new Promise<void>((done) => site.listen(0, '127.0.0.1', done))
    const port = (site.address() as AddressInfo).port
    try {
      // the same site on another port (another origin): the browser sends the session cookie
      // (SameSite=Lax), so the XSRF check is what refuses; another site (localhost): no cookie,
      // the hub sees nobody and sends the browser to log in
      for (const [host, refused] of [
        ['127.0.0.1', 403],
        ['localhost', 302],
      ] as const) {
        for (let i = 0; i < forms.length; i++) {
          const answer = page.waitForResponse((r) => r.url() === `${stack.url}${forms[i][0]}`)
          await page.goto(`http://${host}:${port}/?i=${i}`)
          const res = await answer
          expect([host, forms[i][0], res.status()]).toEqual([host, forms[i][0], refused])
          if (refused === 302) expect(res.headers().location).toMatch(/^\/hub\/login\?next=/)
        }
      }
    } finally {
      site.close()
    }
    expect(await model('mallory')).toBeNull()
    expect(await model('pupil-08')).not.toBeNull()
    expect((await model('pupil-08')).servers['']?.stopped ?? true).toBe(true)
    expect((await fetch(`${stack.url}/hub/api/groups/evil`, { headers: root.auth })).status).toBe(404)
    await page.context().close()
  })

  it('a helper with admin-ui for one group sees and acts on that group only, as the API lets them', async () => {
    const tess = await person(root, 'tess')
    const made = await fetch(`${stack.url}/hub/api/groups/class`, {
      method: 'POST',
      headers: { ...root.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ users: ['pupil-10', 'pupil-11'] }),
    })
    expect(made.status).toBe(201)
    const page = await logInInBrowser({ name: 'tess', password: tess.password })
    await openAdmin(page)
    expect(await userNames(page)).toEqual(['pupil-10', 'pupil-11'])
    expect(await page.locator('#add-user').count()).toBe(0) // no admin:users
    expect(await page.getByRole('link', { name: 'Edit pupil-10' }).count()).toBe(0)
    expect(await page.getByRole('link', { name: 'View pupil-10' }).count()).toBe(1)
    await checked(page, 'helper')
    await rowOf(page, 'pupil-10').getByRole('button', { name: 'Start server for pupil-10' }).click()
    await page.waitForURL(/notice=/)
    await waitFor('pupil-10 running', async () => (await model('pupil-10')).servers['']?.ready === true, {
      timeoutMs: 30_000,
    })
    // outside the group: refused as the API refuses (404: the user is not visible to her)
    const other = await tess.client.postForm('/hub/admin/users/pupil-12/servers/start', { server: '' })
    expect(other.status).toBe(404)
    const edit = await tess.client.postForm('/hub/admin/users/pupil-10/edit', { name: 'pupil-10', admin: '1' })
    expect(edit.status).toBe(403)
    const page2 = await tess.client.get('/hub/admin/users/pupil-12')
    expect(page2.status).toBe(404)
    expect((await model('pupil-12')).servers['']?.stopped ?? true).toBe(true)
    await tess.client.postForm('/hub/admin/users/pupil-10/servers/stop', { server: '' })
    await page.context().close()
  })
})
