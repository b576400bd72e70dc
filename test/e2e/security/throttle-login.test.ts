// Login throttling, shared by two hub replicas through Redis: growing waits per user name and per
// client address, a lock per name that an admin lifts (API or CLI), the same answers whether or not
// the user exists, and no wait for a user whose name and address nobody else is failing from.
// Requests go to the hub replicas directly with an X-Forwarded-For entry, as the edge proxy sends
// them, so that each test has client addresses of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type Cluster } from '../../support/cluster'
import { Client } from '../../support/client'
import { addUser, cli, rootOf, type Admin } from '../../support/people'
import { waitFor } from '../../../runtime/src/wait'

// free: 3 failures of a name; then waits of 1 s, 2 s (the most); the 6th failure locks the name
const THROTTLE = { freeFailures: 3, baseDelaySec: 1, maxDelaySec: 2, lockoutFailures: 6, addressFreeFailures: 12 }
let c: Cluster
let root: Admin

/** A browser at hub replica `hub` whose requests come from `address` (the edge proxy's X-Forwarded-For). */
const browser = (hub: number, address: string) =>
  new Client(c.hubUrls[hub], (url, init) =>
    fetch(url, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), 'x-forwarded-for': `203.0.113.250, ${address}` },
    }),
  )

interface Attempt {
  status: number
  retryAfter: number | null
  message: string
}
async function attempt(b: Client, name: string, password: string): Promise<Attempt> {
  const res = await b.postForm('/hub/login', { username: name, password })
  const body = await res.text()
  const message = /role="alert">([^<]*)</.exec(body)?.[1] ?? ''
  return {
    status: res.status,
    retryAfter: res.headers.has('retry-after') ? Number(res.headers.get('retry-after')) : null,
    message,
  }
}

/** Waits out a Retry-After (a condition on the clock, checked by polling, not a fixed sleep). */
async function waitOut(a: Attempt) {
  const until = Date.now() + (a.retryAfter ?? 0) * 1000
  await waitFor('the throttle wait to pass', () => Date.now() >= until, { timeoutMs: 10_000, intervalMs: 50 })
}

/** Fails until `name` is locked, waiting out each delay; the attempts made. */
async function failUntilLocked(b: Client, name: string): Promise<Attempt[]> {
  const seen: Attempt[] = []
  for (let i = 0; i < 20; i++) {
    const a = await attempt(b, name, 'wrong-password')
    seen.push(a)
    if (a.status === 429 && a.message.includes('locked')) return seen
    if (a.status === 429) await waitOut(a)
  }
  throw new Error(`${name} was never locked: ${JSON.stringify(seen)}`)
}

beforeAll(async () => {
  c = await startCluster({
    hubs: 2,
    proxies: 1,
    haproxy: false,
    overrides: { auth: { native: { scryptCost: 1024 }, throttle: THROTTLE } },
  })
  root = await rootOf(c)
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'])
    await addUser(root, u, { password: `${u}-password` })
}, 120_000)
afterAll(async () => c?.stop(), 60_000)

describe('login throttling', () => {
  it('60 wrong passwords in a few seconds, then the right one: the right one is refused, and the waits grow', async () => {
    const b = browser(0, '198.51.100.1')
    const t0 = Date.now()
    const results: Attempt[] = []
    for (let i = 0; i < 60; i++) results.push(await attempt(b, 'alice', `wrong-${i}`))
    expect(Date.now() - t0).toBeLessThan(10_000)
    expect(results.filter((r) => r.status === 302)).toHaveLength(0)
    // only the free failures and a few after each wait checked a password; the rest were turned away
    const checked = results.filter((r) => r.status === 403).length
    expect(checked).toBeGreaterThanOrEqual(THROTTLE.freeFailures + 1)
    expect(checked).toBeLessThanOrEqual(THROTTLE.lockoutFailures)
    expect(results.slice(0, THROTTLE.freeFailures).every((r) => r.status === 403)).toBe(true)
    expect(results.filter((r) => r.status === 429).length).toBeGreaterThan(40)
    for (const r of results.filter((x) => x.status === 429)) expect(r.retryAfter).toBeGreaterThanOrEqual(1)
    const right = await attempt(b, 'alice', 'alice-password')
    expect(right.status).toBe(429)
    expect(right.retryAfter).toBeGreaterThanOrEqual(1)
    // every password checked counted once, in Redis
    expect(await c.state.hget(c.keys.loginFail('alice'), 'count')).toBe(String(checked))
  })

  it('waits double from baseDelaySec up to maxDelaySec, then the name is locked until an admin unlocks it (API)', async () => {
    const b = browser(1, '198.51.100.2')
    const seen = await failUntilLocked(b, 'bob')
    const waits = seen.filter((a) => a.status === 429 && !a.message.includes('locked')).map((a) => a.retryAfter)
    expect(waits).toEqual([1, 2]) // after the 4th and the 5th failure
    expect(seen.filter((a) => a.status === 403)).toHaveLength(THROTTLE.lockoutFailures)
    const locked = await attempt(b, 'bob', 'bob-password')
    expect(locked.status).toBe(429)
    expect(locked.message).toContain('locked')
    // an admin unlocks bob; the right password works at once
    const res = await fetch(`${c.url}/hub/api/users/bob/login-failures`, { method: 'DELETE', headers: root.auth })
    expect(res.status).toBe(204)
    expect((await attempt(b, 'bob', 'bob-password')).status).toBe(302)
  })

  it('the two replicas share the count: failures on either add up to one lock', async () => {
    const [b0, b1] = [browser(0, '198.51.100.3'), browser(1, '198.51.100.3')]
    // alternate replicas: neither sees more than half of the failures
    const seen: Attempt[] = []
    for (let i = 0; i < 20 && !seen.some((a) => a.message.includes('locked')); i++) {
      const a = await attempt(i % 2 ? b1 : b0, 'carol', 'wrong-password')
      seen.push(a)
      if (a.status === 429 && !a.message.includes('locked')) await waitOut(a)
    }
    expect(seen.filter((a) => a.status === 403)).toHaveLength(THROTTLE.lockoutFailures)
    for (const b of [b0, b1]) expect((await attempt(b, 'carol', 'carol-password')).message).toContain('locked')
    // the operator's unlock, on the hub's machine
    expect(cli(c, ['user', 'unlock', 'carol'])).toBe(
      `carol: unlocked; ${THROTTLE.lockoutFailures} failed logins forgotten`,
    )
    expect((await attempt(b1, 'carol', 'carol-password')).status).toBe(302)
  })

  it('answers the same whether or not the user exists', async () => {
    const real = await failUntilLocked(browser(0, '198.51.100.4'), 'dave')
    const ghost = await failUntilLocked(browser(0, '198.51.100.5'), 'nobody-of-this-name')
    const shape = (xs: Attempt[]) => xs.map((a) => [a.status, a.retryAfter, a.message])
    expect(shape(ghost)).toEqual(shape(real))
    // locked alike: the right password of the real one changes nothing
    const [g, d] = [
      await attempt(browser(1, '198.51.100.5'), 'nobody-of-this-name', 'x'),
      await attempt(browser(1, '198.51.100.4'), 'dave', 'dave-password'),
    ]
    expect([g.status, g.message]).toEqual([d.status, d.message])
    expect(g.retryAfter).toBeGreaterThan(0)
    expect(d.retryAfter).toBeGreaterThan(0)
  })

  it("another name's failures do not slow a user down; only a shared address does, past addressFreeFailures", async () => {
    const attacker = browser(0, '198.51.100.6')
    await failUntilLocked(attacker, 'mallory-target-1') // 6 failures from this address
    // erin, from another address, logs in at once, on either replica
    const t0 = Date.now()
    expect((await attempt(browser(1, '198.51.100.7'), 'erin', 'erin-password')).status).toBe(302)
    expect(Date.now() - t0).toBeLessThan(2000)
    // the attacker's address goes on, name after name, past 12 failures: from it, everyone waits
    for (
      let i = 0;
      (await c.state.hget(c.keys.loginFailAddress('198.51.100.6'), 'count')) !==
      String(THROTTLE.addressFreeFailures + 1);
      i++
    ) {
      const a = await attempt(attacker, `spray-${i}`, 'wrong-password')
      if (a.status === 429) await waitOut(a)
      expect(i).toBeLessThan(40)
    }
    const shared = await attempt(browser(1, '198.51.100.6'), 'frank', 'frank-password')
    expect(shared.status).toBe(429)
    expect(shared.message).not.toContain('locked')
    // frank from his own address: at once
    expect((await attempt(browser(1, '198.51.100.8'), 'frank', 'frank-password')).status).toBe(302)
  })
})
