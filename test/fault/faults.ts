// The fault suite's shared parts: setting a cluster up under load, running one fault while measuring,
// checking that nothing was lost, and the table of figures printed at the end.
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'vitest'
import type { Cluster } from '../support/cluster'
import { Client } from '../support/client'
import { HEALTH_PATH } from '../../proxy/src/nginx-process'
import { delay, waitFor } from '../../control-plane/src/util/wait'
import { Load, type Kind, type Outcome, type Worker } from './load'

export const PASSWORD = 'fault-suite-password'

/** Users with running servers and open kernels, logged in, and users for spawn cycles; load started. */
export async function underLoad(c: Cluster, opts: { workers?: number; spawners?: number } = {}): Promise<Load> {
  const d = c.deps
  const hash = await d.native!.hash(PASSWORD)
  const workers: Worker[] = []
  for (let i = 0; i < (opts.workers ?? 2); i++) {
    const name = `worker${i}`
    await d.users.create(name, { passwordHash: hash })
    const token = (await d.tokens.issue(name, { note: 'fault suite' })).token
    await d.orchestrator.start(name, '')
    await d.orchestrator.settled(name, '')
    const client = new Client(c.url)
    expect((await client.login(name, PASSWORD)).status).toBe(302)
    const k = await waitFor(`a kernel for ${name}`, async () => {
      const res = await fetch(`${c.url}/user/${name}/api/kernels`, { method: 'POST', headers: { authorization: `token ${token}` } })
      return res.status === 201 && ((await res.json()) as { id: string })
    }, { timeoutMs: 30_000, intervalMs: 500 })
    workers.push({ name, token, client, kernelId: k.id })
  }
  const spawners = []
  for (let i = 0; i < (opts.spawners ?? 1); i++) {
    const name = `spawner${i}`
    await d.users.create(name, { passwordHash: hash })
    spawners.push({ name, token: (await d.tokens.issue(name, { note: 'fault suite' })).token })
  }
  const load = new Load({ url: c.url, wsUrl: c.url.replace(/^http/, 'ws'), workers, spawners, password: PASSWORD })
  load.start()
  await waitFor('load to flow', () => (['user-http', 'user-ws', 'hub-api', 'hub-page', 'login'] as Kind[]).every((k) => load.outcomes.some((o) => o.kind === k && o.ok)), {
    timeoutMs: 30_000,
  })
  return load
}

/** Every hub that should run answers health, every proxy is synced, a leader exists, the edge answers. */
export async function healthy(c: Cluster, hubs: number[]): Promise<boolean> {
  const ok = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => null))?.ok ?? false
  const checks = await Promise.all([
    ...hubs.map((i) => ok(`${c.hubUrls[i]}/hub/health`)),
    ...c.proxyUrls.map(async (u) => {
      const res = await fetch(`${u}${HEALTH_PATH}`, { signal: AbortSignal.timeout(2000) }).catch(() => null)
      return res?.ok && ((await res.json()) as { redis?: string }).redis === 'connected'
    }),
    ok(`${c.url}/hub/api`),
    c.leader().then((l) => l >= 0),
  ])
  return checks.every(Boolean)
}

interface Snapshot {
  users: string[]
  tokens: string[]
  sessions: string[]
  routes: string[]
}

export async function snapshot(c: Cluster): Promise<Snapshot> {
  const d = c.deps
  const users = await d.users.names()
  const tokens: string[] = []
  const sessions: string[] = []
  for (const u of users) {
    tokens.push(...(await d.tokens.list(u)).filter((t) => t.kind === 'api').map((t) => t.id))
    sessions.push(...(await d.redis.smembers(d.keys.userSessions(u))))
  }
  const routes = Object.keys(await d.tables.getAll('routes')).filter((r) => r.startsWith('/user/worker'))
  return { users, tokens, sessions, routes }
}

export interface Row {
  fault: string
  userHttp: string
  userWs: string
  hubFirstTry: string
  hubAfterRetry: string
  logins: string
  sessionsValid: string
  lost: number
  spawns: string
  failoverMs: number
  healthySec: number
}

export const rows: Row[] = []

const count = (os: Outcome[], kinds: Kind[]) => os.filter((o) => kinds.includes(o.kind))

/**
 * Runs one fault under the load: `fault` injects it and repairs it (restarts what it killed).
 * Returns the figures; the caller asserts on them.
 */
export async function measure(c: Cluster, load: Load, name: string, hubs: number[], fault: () => Promise<void>) {
  await waitFor('a healthy cluster before the fault', () => healthy(c, hubs), { timeoutMs: 30_000 })
  const ready = Date.now()
  await waitFor('every kernel socket to answer before the fault', () => load.kernelsAnsweredSince(ready), { timeoutMs: 30_000 })
  await c.deps.redis.wait(c.sentinel ? 1 : 0, 1000).catch(() => 0) // with Sentinel: the replica has every write made so far
  const before = await snapshot(c)
  const t0 = Date.now()
  await fault()
  await waitFor('the cluster to be healthy again', () => healthy(c, hubs), { timeoutMs: 90_000, intervalMs: 100 })
  const healthyAt = Date.now()
  // every spawn cycle begun during the fault has ended (running, or failed cleanly and run on retry)
  await waitFor('a spawn cycle to end after the recovery', () => load.outcomes.some((o) => o.kind === 'spawn' && o.at > healthyAt), {
    timeoutMs: 120_000,
    intervalMs: 200,
  })
  // and every user works in their kernel again (a socket that dropped has been reopened)
  await waitFor('every kernel socket to answer after the recovery', () => load.kernelsAnsweredSince(healthyAt), { timeoutMs: 30_000 })
  await delay(1000) // a second of steady load after recovery belongs to the sample
  const os = load.since(t0)
  const after = await snapshot(c)
  const lost = (['users', 'tokens', 'sessions', 'routes'] as const).reduce((n, k) => n + before[k].filter((x) => !after[k].includes(x)).length, 0)
  const sessionsValid = await Promise.all(
    load.workers.map(async (w) => (await w.client.get('/hub/home')).status === 200),
  )
  // spawn cycles are recorded when they end, so they do not mark when requests failed
  const failures = os.filter((o) => o.kind !== 'spawn' && (!o.ok || o.retried))
  const hub = count(os, ['hub-api', 'hub-page'])
  const fmt = (xs: Outcome[]) => `${xs.filter((o) => !o.ok).length} / ${xs.length}`
  const spawns = count(os, ['spawn'])
  const row: Row = {
    fault: name,
    userHttp: fmt(count(os, ['user-http'])),
    userWs: fmt(count(os, ['user-ws'])),
    hubFirstTry: `${hub.filter((o) => o.retried).length} / ${hub.length}`,
    hubAfterRetry: fmt(hub),
    logins: fmt(count(os, ['login'])),
    sessionsValid: sessionsValid.every(Boolean) ? 'yes' : 'NO',
    lost,
    spawns: `${spawns.filter((o) => o.ok).length} / ${spawns.length} (${spawns.filter((o) => o.retried).length} retried)`,
    failoverMs: failures.length ? failures.at(-1)!.at - failures[0].at : 0,
    healthySec: Math.round((healthyAt - t0) / 100) / 10,
  }
  rows.push(row)
  return { row, outcomes: os, lost, sessionsValid, failed: (k: Kind[]) => count(os, k).filter((o) => !o.ok) }
}

export function printTable(): void {
  if (rows.length === 0) return
  const head = ['fault', 'user server HTTP failed', 'kernel WS failed', 'hub reqs retried', 'hub reqs failed after retry', 'logins failed', 'earlier logins valid', 'items lost', 'spawns ok (retried)', 'failover window ms', 'healthy again s']
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  for (const r of rows) {
    lines.push(`| ${[r.fault, r.userHttp, r.userWs, r.hubFirstTry, r.hubAfterRetry, r.logins, r.sessionsValid, r.lost, r.spawns, r.failoverMs, r.healthySec].join(' | ')} |`)
  }
  const table = lines.join('\n')
  const out = process.env.FAULT_REPORT ?? join(tmpdir(), 'edgehub-fault-report.md')
  writeFileSync(out, table + '\n', { flag: 'a' })
  process.stdout.write(`\nFault suite figures (also in ${out}):\n${table}\n`)
}
