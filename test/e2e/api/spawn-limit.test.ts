// hub.concurrentSpawnLimit (JupyterHub's concurrent_spawn_limit) with two hub replicas: spawns in
// progress on either replica count against one limit; a start beyond it is refused with 429, JupyterHub's
// message and a Retry-After header, by the API and by the spawn page; a finished spawn frees its slot,
// and so, after its entry's lifetime, does one whose replica died.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type Cluster } from '../../support/cluster'
import { json } from '../../support/client'
import { gatedSpawner } from '../../support/servers'
import { waitFor } from '../../../runtime/src/wait'
import { person, rootOf, type Admin } from '../../support/people'

let c: Cluster
let gateDir: string
let gate: string
const tokens: Record<string, string> = {}
const people: Record<string, Admin> = {}
const USERS = ['ann', 'bob', 'cat', 'dan']

const start = (hub: string, user: string) =>
  fetch(`${hub}/hub/api/users/${user}/server`, { method: 'POST', headers: { authorization: `token ${tokens[user]}` } })

describe('hub.concurrentSpawnLimit', () => {
  beforeAll(async () => {
    gateDir = mkdtempSync(join(tmpdir(), 'edgehub-gate-'))
    chmodSync(gateDir, 0o755) // servers run as their users' own accounts when the hub is root: they must see the gate
    gate = join(gateDir, 'open')
    c = await startCluster({
      hubs: 2,
      proxies: 1,
      haproxy: false,
      overrides: {
        hub: { concurrentSpawnLimit: 2, slowSpawnTimeoutSec: 0.2, serverLockLeaseSec: 2 },
        spawner: { startTimeoutSec: 8, ...gatedSpawner(gate) },
      },
    })
    // root with the CLI; the users added by root on the admin page, logged in, with tokens of their own
    const root = await rootOf(c)
    for (const u of USERS) {
      people[u] = await person(root, u)
      tokens[u] = people[u].token
    }
  }, 90_000)
  afterAll(async () => {
    await c?.stop()
    rmSync(gateDir, { recursive: true, force: true })
  }, 60_000)

  it('counts pending spawns of every replica and refuses the next with 429 and Retry-After', async () => {
    const [hub0, hub1] = c.hubUrls
    expect((await start(hub0, 'ann')).status).toBe(202)
    expect((await start(hub1, 'bob')).status).toBe(202)
    for (const hub of [hub0, hub1]) {
      const r = await start(hub, 'cat')
      expect(r.status).toBe(429)
      const retry = Number(r.headers.get('retry-after'))
      expect(retry).toBeGreaterThanOrEqual(30)
      expect(retry).toBeLessThanOrEqual(60)
      expect(await json(r)).toEqual({
        status: 429,
        message: expect.stringMatching(/^Too many users trying to log in right now\. Try again in [3-6]0 seconds\.$/),
      })
    }
    // nothing of the refused spawn was recorded
    expect(await c.serverRecord('cat', '')).toBeUndefined()
    // the spawn page (through the proxy) answers the same way instead of a pending page for nothing
    const page = await people.cat.client.get('/hub/spawn') // cat's login session
    expect(page.status).toBe(429)
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(await page.text()).toContain('Too many users trying to log in right now')
  })

  it('frees a slot when a spawn finishes', async () => {
    writeFileSync(gate, '')
    for (const u of ['ann', 'bob']) {
      await waitFor(`${u}'s server`, async () => (await c.serverRecord(u, ''))?.state === 'running', {
        timeoutMs: 15_000,
      })
    }
    expect((await start(c.hubUrls[0], 'cat')).status).toBeLessThan(203) // 201 or 202
    await waitFor("cat's server", async () => (await c.serverRecord('cat', ''))?.state === 'running', {
      timeoutMs: 15_000,
    })
  })

  it('a replica that dies mid-spawn holds its slot only until the entry expires', async () => {
    rmSync(gate) // new spawns stay pending again
    for (const u of ['ann', 'bob']) {
      expect(
        (
          await fetch(`${c.url}/hub/api/users/${u}/server`, {
            method: 'DELETE',
            headers: { authorization: `token ${tokens[u]}` },
          })
        ).status,
      ).toBe(204)
    }
    expect((await start(c.hubUrls[0], 'ann')).status).toBe(202)
    expect((await start(c.hubUrls[0], 'bob')).status).toBe(202)
    const admitted = Date.now()
    expect((await start(c.hubUrls[1], 'dan')).status).toBe(429)
    await c.killHub(0)
    // an entry counts for startTimeoutSec + serverLockLeaseSec (10 s) after its admission
    await waitFor('a free slot', async () => (await start(c.hubUrls[1], 'dan')).status === 202, {
      timeoutMs: 30_000,
      intervalMs: 250,
    })
    expect(Date.now() - admitted).toBeGreaterThan(9000)
    writeFileSync(gate, '')
    await waitFor("dan's server", async () => (await c.serverRecord('dan', ''))?.state === 'running', {
      timeoutMs: 15_000,
    })
  }, 60_000)
})
