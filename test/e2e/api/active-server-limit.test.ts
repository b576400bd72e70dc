// hub.activeServerLimit (JupyterHub's active_server_limit) with two hub replicas: servers started,
// starting or stopping through either replica count against one limit; a start beyond it is refused
// with 429 and JupyterHub's message by the API, and as a readable page by the spawn page a person
// reaches after logging in; stopping a server frees its place; two replicas racing for the last
// place admit one start.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { startCluster, type Cluster } from '../../support/cluster'
import { json } from '../../support/client'
import { gatedSpawner } from '../../support/servers'
import { launchBrowser } from '../../support/browser'
import { waitFor } from '../../../runtime/src/wait'
import { person, rootOf, stopServer, type Admin } from '../../support/people'

const MESSAGE = 'Active user limit exceeded. Try again in a few minutes.'
const USERS = ['ann', 'bob', 'cat', 'dan']

let c: Cluster
let browser: Browser
let gateDir: string
let gate: string
const people: Record<string, Admin> = {}

/** POST /hub/api/users/USER/server straight to one hub replica, with the user's own token. */
const start = (hub: string, user: string) =>
  fetch(`${hub}/hub/api/users/${user}/server`, { method: 'POST', headers: people[user].auth })
const running = (user: string) =>
  waitFor(`${user}'s server`, async () => (await c.serverRecord(user, ''))?.state === 'running', {
    timeoutMs: 20_000,
  })

describe('hub.activeServerLimit', () => {
  beforeAll(async () => {
    gateDir = mkdtempSync(join(tmpdir(), 'edgehub-gate-'))
    chmodSync(gateDir, 0o755) // servers run as their users' own accounts when the hub is root: they must see the gate
    gate = join(gateDir, 'open')
    ;[c, browser] = await Promise.all([
      startCluster({
        hubs: 2,
        proxies: 1,
        haproxy: false,
        overrides: {
          hub: { activeServerLimit: 2, slowSpawnTimeoutSec: 0.2 },
          spawner: { startTimeoutSec: 20, ...gatedSpawner(gate) },
        },
      }),
      launchBrowser(),
    ])
    // root with the CLI; the users added by root on the admin page, logged in, with tokens of their own
    const root = await rootOf(c)
    for (const u of USERS) people[u] = await person(root, u)
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await c?.stop()
    rmSync(gateDir, { recursive: true, force: true })
  }, 60_000)

  beforeEach(() => writeFileSync(gate, '')) // servers start at once unless a test closes the gate
  // every test begins with no server active
  afterEach(async () => {
    writeFileSync(gate, '')
    for (const u of USERS) {
      await waitFor(`${u}'s spawn to settle`, async () => (await c.serverRecord(u, ''))?.state !== 'pending', {
        timeoutMs: 20_000,
      })
      await stopServer(c.url, people[u].token, u)
    }
    expect(await c.activeServers()).toEqual([])
  }, 60_000)

  it("counts servers started through either replica, refuses the next with 429 and JupyterHub's message, and a stop frees a place", async () => {
    const [hub0, hub1] = c.hubUrls
    expect([201, 202]).toContain((await start(hub0, 'ann')).status)
    expect([201, 202]).toContain((await start(hub1, 'bob')).status)
    await Promise.all([running('ann'), running('bob')])
    for (const hub of [hub0, hub1]) {
      const r = await start(hub, 'cat')
      expect(r.status).toBe(429)
      expect(r.headers.get('retry-after')).toBeNull() // JupyterHub sends none for this limit
      expect(await json(r)).toEqual({ status: 429, message: MESSAGE })
    }
    // nothing of the refused start was recorded, and the running servers were not touched
    expect(await c.serverRecord('cat', '')).toBeUndefined()
    expect((await c.serverRecord('ann', ''))?.state).toBe('running')

    await stopServer(hub1, people.ann.token, 'ann') // stopped through the other replica
    expect([201, 202]).toContain((await start(hub0, 'cat')).status)
    await running('cat')
    expect((await start(hub1, 'dan')).status).toBe(429)
  })

  it('counts a spawn still in progress, and admits one of two starts racing for the last place', async () => {
    rmSync(gate) // spawns stay pending
    expect((await start(c.hubUrls[0], 'ann')).status).toBe(202)
    expect((await c.serverRecord('ann', ''))?.state).toBe('pending')
    const statuses = (await Promise.all([start(c.hubUrls[0], 'bob'), start(c.hubUrls[1], 'cat')])).map((r) => r.status)
    expect(statuses.sort()).toEqual([202, 429])
    expect((await start(c.hubUrls[1], 'dan')).status).toBe(429)
    writeFileSync(gate, '')
    await running('ann')
    // still two active: ann's and the admitted one
    expect((await c.activeServers()).length).toBe(2)
    expect((await start(c.hubUrls[0], 'dan')).status).toBe(429)
  })

  it('shows a person who logs in while the hub is full a readable page, not JSON or a stack trace', async () => {
    expect([201, 202]).toContain((await start(c.hubUrls[0], 'ann')).status)
    expect([201, 202]).toContain((await start(c.hubUrls[1], 'bob')).status)
    await Promise.all([running('ann'), running('bob')])

    const context = await browser.newContext()
    const page = await context.newPage()
    const statuses: Record<string, number> = {}
    page.on('response', (r) => void (statuses[new URL(r.url()).pathname] = r.status()))
    await page.goto(`${c.url}/hub/login`)
    await page.fill('#username', 'dan')
    await page.fill('#password', people.dan.password)
    await page.click('#login_submit')
    // the login lands on /hub/, which sends a user without a running server to the spawn page
    await page.waitForURL(/\/hub\/spawn$/, { timeout: 15_000 })
    expect(statuses['/hub/spawn']).toBe(429)
    await page.locator(`text=${MESSAGE}`).waitFor()
    const text = (await page.locator('main').innerText()).trim()
    expect(text).not.toMatch(/[{}]|\bat \S+:\d+|Error:/) // neither a JSON body nor a stack trace
    expect(await page.locator('main a[href="/hub/home"]').count()).toBe(1) // a way on
    expect(await c.serverRecord('dan', '')).toBeUndefined()

    // once a place is free, the same page starts the server
    await stopServer(c.url, people.ann.token, 'ann')
    await page.goto(`${c.url}/hub/spawn`)
    await running('dan')
    await context.close()
  })
})
