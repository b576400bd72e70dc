// The fault suite's shared parts: setting a cluster up under load, running one fault while measuring,
// checking that nothing was lost, and the table of figures printed at the end.
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'vitest'
import type { Cluster } from '../support/cluster'
import { Client } from '../support/client'
import { person, rootOf, startServer } from '../support/people'
import { HEALTH_PATH } from '../../proxy/src/nginx-process'
import { delay, waitFor } from '../../runtime/src/wait'
import { CEILING_MS, Load, SCHEDULE, type Kind, type Outcome, type Worker } from './load'

export const PASSWORD = 'fault-suite-password'

/** Users with running servers and open kernels, logged in, and users for spawn cycles; load started. */
export async function underLoad(c: Cluster, opts: { workers?: number; spawners?: number } = {}): Promise<Load> {
  // as people get there: an admin (CLI) adds each user on the admin page, who logs in, takes a token
  // of their own and starts their server through the hub's API
  const root = await rootOf(c)
  const workers: Worker[] = []
  for (let i = 0; i < (opts.workers ?? 2); i++) {
    const name = `worker${i}`
    const { token } = await person(root, name, { password: PASSWORD })
    await startServer(c.url, token, name)
    const client = new Client(c.url)
    expect((await client.login(name, PASSWORD)).status).toBe(302)
    const k = await waitFor(
      `a kernel for ${name}`,
      async () => {
        const res = await fetch(`${c.url}/user/${name}/api/kernels`, {
          method: 'POST',
          headers: { authorization: `token ${token}` },
        })
        return res.status === 201 && ((await res.json()) as { id: string })
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    )
    workers.push({ name, token, client, kernelId: k.id })
  }
  const spawners = []
  for (let i = 0; i < (opts.spawners ?? 1); i++) {
    const name = `spawner${i}`
    spawners.push({ name, token: (await person(root, name, { password: PASSWORD })).token })
  }
  const load = new Load({ url: c.url, wsUrl: c.url.replace(/^http/, 'ws'), workers, spawners, password: PASSWORD })
  load.start()
  await waitFor(
    'load to flow',
    () =>
      (['user-http', 'user-ws', 'hub-api', 'hub-page', 'login'] as Kind[]).every((k) =>
        load.outcomes.some((o) => o.kind === k && o.ok),
      ),
    {
      timeoutMs: 30_000,
    },
  )
  return load
}

/** Every hub that should run answers health, every proxy is synced, a leader exists, the edge answers. */
export async function healthy(c: Cluster, hubs: number[]): Promise<boolean> {
  const ok = async (url: string) =>
    (await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => null))?.ok ?? false
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
  // read as docs/redis-schema.md describes the records: P users, P tokens:<name>, P token:<id>, P sessions:<name>
  const { state: redis, keys } = c
  const users = await redis.zrange(keys.users, '0', '-1')
  const tokens: string[] = []
  const sessions: string[] = []
  for (const u of users) {
    const ids = await redis.smembers(keys.userTokens(u))
    const recs = await Promise.all(ids.map((id) => redis.hmget(keys.token(id), 'kind', 'created')))
    tokens.push(
      ...ids
        .map((id, i) => ({ id, kind: recs[i][0], created: recs[i][1] ?? '' }))
        .filter((t) => t.kind === 'api')
        .sort((a, b) => a.created.localeCompare(b.created))
        .map((t) => t.id),
    )
    sessions.push(...(await redis.smembers(keys.userSessions(u))))
  }
  const routes = Object.keys(await c.tables.getAll('routes')).filter((r) => r.startsWith('/user/worker'))
  return { users, tokens, sessions, routes }
}

/** When a fault disturbed the cluster: from its injection to the end of its effects. */
export interface FaultWindow {
  from: number
  to: number
  /** What was measured about the fault itself (printed under the table). */
  note?: string
}

/** Kinds whose every request is counted (spawn cycles are counted when they end). */
export const REQUEST_KINDS = ['user-http', 'user-ws', 'hub-api', 'hub-page', 'login'] as const satisfies Kind[]
export const HUB_KINDS = ['hub-api', 'hub-page', 'login'] as const satisfies Kind[]

/** Requests of each kind the schedule sends in `ms` (per worker, logins once). */
export function scheduled(kind: (typeof REQUEST_KINDS)[number], ms: number, workers: number, pace = 1): number {
  return Math.floor((ms / SCHEDULE[kind]) * pace * (kind === 'login' ? 1 : workers))
}

export interface Row {
  fault: string
  note?: string
  /** Failed first tries by kind and cause, e.g. "hub-api: 3× HTTP 502". */
  causes: string[]
  windowSec: number
  fewestInWindow: string
  userHttp: string
  userWs: string
  hubApi: string
  hubPage: string
  logins: string
  afterRetry: string
  slowestHubMs: number
  leaderlessSec: number
  sessionsValid: string
  lost: number
  spawns: string
  healthySec: number
}

export const rows: Row[] = []

const count = (os: Outcome[], kinds: readonly Kind[]) => os.filter((o) => kinds.includes(o.kind))

/** Failed first tries grouped by kind and cause (numbers in the cause dropped). */
function causes(os: Outcome[]): string[] {
  const by = new Map<string, number>()
  for (const o of os.filter((x) => !x.ok && x.kind !== 'spawn')) {
    const first = (o.detail ?? '?').split('; retry:')[0]
    const cause = first.startsWith('answered after')
      ? `answered after > ${CEILING_MS} ms`
      : first.startsWith('not sent: a request')
        ? 'not sent (an earlier one unanswered for > 2 s)'
        : first
    const k = `${o.kind}: ${cause}`
    by.set(k, (by.get(k) ?? 0) + 1)
  }
  return [...by].map(([k, n]) => `${n}× ${k}`)
}
const sec = (ms: number) => Math.round(ms / 100) / 10

/** Polls which replica leads, every 200 ms, until stopped; each sample is the poll's start and end. */
function watchLeader(c: Cluster) {
  const samples: Array<{ start: number; end: number; leader: number }> = []
  let running = true
  const done = (async () => {
    while (running) {
      const start = Date.now()
      const leader = await c.leader().catch(() => -1)
      samples.push({ start, end: Date.now(), leader })
      await delay(200)
    }
  })()
  return {
    samples,
    async stop() {
      running = false
      await done
    },
    /** The longest time no replica was seen leading: from the last poll that began while one led to the end of the next poll that found one. */
    longestGapMs(): number {
      let longest = 0
      let lastLed = samples[0]?.start ?? 0
      let gap = false
      for (const s of samples) {
        if (s.leader < 0) gap = true
        else {
          if (gap) longest = Math.max(longest, s.end - lastLed)
          gap = false
          lastLed = s.start
        }
      }
      return gap ? Math.max(longest, (samples.at(-1)?.end ?? 0) - lastLed) : longest
    },
    /** Upper bound of when a replica led again after t: the end of the first poll begun after t that found one. */
    leaderFoundAfter(t: number): number | undefined {
      return samples.find((s) => s.start > t && s.leader >= 0)?.end
    },
  }
}

/**
 * Runs one fault under the load: `fault` injects it, repairs it (restarts what it killed) and says
 * when it disturbed the cluster. Measures from the injection until one second of steady load after
 * the cluster is healthy again; returns the figures, the caller asserts on them.
 */
export async function measure(c: Cluster, load: Load, name: string, hubs: number[], fault: () => Promise<FaultWindow>) {
  await waitFor('a healthy cluster before the fault', () => healthy(c, hubs), { timeoutMs: 30_000 })
  const ready = Date.now()
  await waitFor('every kernel socket to answer before the fault', () => load.kernelsAnsweredSince(ready), {
    timeoutMs: 30_000,
  })
  await c.state.wait(c.sentinel ? 1 : 0, 1000).catch(() => 0) // with Sentinel: the replica has every write made so far
  const before = await snapshot(c)
  const leader = watchLeader(c)
  load.generatorLagMs()
  const t0 = Date.now()
  const window = await fault()
  await waitFor('the cluster to be healthy again', () => healthy(c, hubs), { timeoutMs: 90_000, intervalMs: 100 })
  const healthyAt = Date.now()
  // every spawn cycle begun during the fault has ended (running, or failed cleanly and run on retry)
  await waitFor(
    'a spawn cycle to end after the recovery',
    () => load.outcomes.some((o) => o.kind === 'spawn' && o.at > healthyAt),
    {
      timeoutMs: 120_000,
      intervalMs: 200,
    },
  )
  // and every user works in their kernel again (a socket that dropped has been reopened)
  await waitFor('every kernel socket to answer after the recovery', () => load.kernelsAnsweredSince(healthyAt), {
    timeoutMs: 30_000,
  })
  await delay(1000) // a second of steady load after recovery belongs to the sample
  const end = Date.now()
  const lagMs = load.generatorLagMs()
  await leader.stop()
  await waitFor('the requests sent in the sample to be answered or given up', () => load.settledBefore(end), {
    timeoutMs: 15_000,
    intervalMs: 50,
  })
  const os = load.between(t0, end)
  const after = await snapshot(c)
  const lost = (['users', 'tokens', 'sessions', 'routes'] as const).reduce(
    (n, k) => n + before[k].filter((x) => !after[k].includes(x)).length,
    0,
  )
  const sessionsValid = await Promise.all(
    load.workers.map(async (w) => (await w.client.get('/hub/home')).status === 200),
  )

  const inWindow = Object.fromEntries(
    REQUEST_KINDS.map((k) => [k, count(load.between(window.from, window.to), [k]).length]),
  ) as Record<(typeof REQUEST_KINDS)[number], number>
  const fewest = REQUEST_KINDS.reduce((a, b) => (inWindow[b] < inWindow[a] ? b : a))
  const fmt = (xs: Outcome[]) => `${xs.filter((o) => !o.ok).length} / ${xs.length}`
  const hub = count(os, HUB_KINDS)
  const spawns = count(os, ['spawn'])
  const row: Row = {
    fault: name,
    note: [window.note, `the load generator's event loop was held up to ${lagMs} ms`].filter(Boolean).join('; '),
    causes: causes(os),
    windowSec: sec(window.to - window.from),
    fewestInWindow: `${inWindow[fewest]} (${fewest})`,
    userHttp: fmt(count(os, ['user-http'])),
    userWs: fmt(count(os, ['user-ws'])),
    hubApi: fmt(count(os, ['hub-api'])),
    hubPage: fmt(count(os, ['hub-page'])),
    logins: fmt(count(os, ['login'])),
    afterRetry: `${hub.filter((o) => o.retried && !o.retryOk).length} / ${hub.filter((o) => o.retried).length}`,
    slowestHubMs: Math.max(0, ...hub.filter((o) => o.ms !== undefined).map((o) => o.ms!)),
    leaderlessSec: sec(leader.longestGapMs()),
    sessionsValid: sessionsValid.every(Boolean) ? 'yes' : 'NO',
    lost,
    spawns: `${spawns.filter((o) => o.ok).length} / ${spawns.length} (${spawns.filter((o) => o.retried).length} retried)`,
    healthySec: sec(healthyAt - t0),
  }
  rows.push(row)
  return {
    row,
    window,
    outcomes: os,
    inWindow,
    lost,
    sessionsValid,
    leaderlessMs: leader.longestGapMs(),
    leaderFoundAfter: leader.leaderFoundAfter,
    /** First tries that failed (wrong answer, none, slower than the ceiling, or not sent). */
    failed: (k: readonly Kind[]) => count(os, k).filter((o) => !o.ok),
  }
}

export function printTable(): void {
  if (rows.length === 0) return
  const head = [
    'fault',
    'fault window s',
    'fewest requests of a kind in the window',
    'user server HTTP failed',
    'kernel WS failed',
    'hub API failed first try',
    'hub pages failed first try',
    'logins failed first try',
    'hub reqs failed after retry / retried',
    'slowest hub answer ms',
    'longest without leader s',
    'earlier logins valid',
    'items lost',
    'spawns ok (retried)',
    'healthy again s',
  ]
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  for (const r of rows) {
    lines.push(
      `| ${[r.fault, r.windowSec, r.fewestInWindow, r.userHttp, r.userWs, r.hubApi, r.hubPage, r.logins, r.afterRetry, r.slowestHubMs, r.leaderlessSec, r.sessionsValid, r.lost, r.spawns, r.healthySec].join(' | ')} |`,
    )
  }
  const notes = rows
    .filter((r) => r.note || r.causes.length)
    .map(
      (r) =>
        `- ${r.fault}: ${[r.note, r.causes.length ? `failed first tries: ${r.causes.join(', ')}` : ''].filter(Boolean).join('; ')}`,
    )
  const table = [...lines, ...(notes.length ? ['', ...notes] : [])].join('\n')
  const out = process.env.FAULT_REPORT ?? join(tmpdir(), 'edgehub-fault-report.md')
  writeFileSync(out, `${table}\n`, { flag: 'a' })
  process.stdout.write(`\nFault suite figures (also in ${out}):\n${table}\n`)
}
