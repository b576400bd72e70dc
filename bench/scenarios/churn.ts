// Scenario 4: route churn while serving. Scenario 1's cookie load runs through the proxy of a real
// hub stack while 1,000 route adds/removes per second are written the way the hub writes them (the
// proxy-table script the orchestrator runs when a server becomes ready or stops). Throughput with
// and without churn is compared (interleaved), and sampled changes are timed until the proxy serves
// (or refuses) them.
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'
import { benchUsers, params } from '../lib/params'
import { startHubStack } from '../lib/hub-stack'
import { hubUsers } from '../lib/hub-users'
import { startUpstream } from '../lib/upstream'
import { expectAnswer } from '../lib/check'
import { loadRun, type LoadRun } from '../lib/measure'
import { cpuSeconds } from '../lib/proc'
import { ratio, round, summary } from '../lib/stats'
import { tokenDigest, type ProxyTables } from '../../control-plane/src/protocol'
import type { Scenario } from '../lib/types'
import { bounded, ratioTarget, reported, spreadOf } from '../lib/verdict'
import { cookieRequests, median, PROXY_WORKERS } from './http'

const POOL = 1000 // churned users: each change adds or removes one of their routes
// Sampled changes. The probes are load on the same two cores (every probe request costs the proxy and
// this process CPU): the applied probe, which times the target, is cheap (the proxy records the
// time itself, so it asks first when most changes are applied, then every APPLIED_POLL_MS); the
// request probe is the costly one, so it is rarer and waits REQUEST_PROBE_GAP_MS between its tries.
const APPLIED_PROBE_EVERY = 25 // one change in this many is timed until the proxy says it applied it
const REQUEST_PROBE_EVERY = 100 // one in this many until a request through the proxy shows it
const REQUEST_PROBE_GAP_MS = 1
const PROBE_TIMEOUT_MS = 5000
// the proxy keeps the times of its last 10,000 changes: 10 s at 1,000 changes/s
const APPLIED_FIRST_POLL_MS = 20
const APPLIED_POLL_MS = 10

interface Churn {
  changes: number
  seconds: number
  /** ms from the write until the proxy had applied it (its own record, health?applied=N). */
  appliedMs: number[]
  /** ms from the write until a request through the saturated proxy was answered accordingly. */
  propagationMs: number[]
  stop(): Promise<void>
}

/** Epoch ms, with performance.now()'s precision. */
const epochMs = (perfNow: number) => performance.timeOrigin + perfNow

/** Writes `rate` route changes per second until stopped; times sampled ones at the proxy. */
function startChurn(
  tables: ProxyTables,
  proxyUrl: string,
  upstreamPort: number,
  tokens: string[],
  rate: number,
): Churn {
  const present = new Array<boolean>(POOL).fill(false)
  const probes = new Set<Promise<void>>()
  const result: Churn = { changes: 0, seconds: 0, appliedMs: [], propagationMs: [], stop: async () => {} }
  // kept-alive connections, one request each at a time: a new connection per probe costs the proxy and
  // this process more than the probe itself
  const probeClient = new Pool(proxyUrl, { connections: 8, pipelining: 1 })
  let next = 0
  let running = true
  let failure: Error | undefined
  const t0 = performance.now()

  const probe = async (i: number, added: boolean, start: number) => {
    const path = `/user/churn-${i}/bench`
    for (;;) {
      const res = await probeClient.request({ path, method: 'GET', headers: { authorization: `token ${tokens[i]}` } })
      await res.body.dump()
      // served by the upstream, or sent to the hub (no route): any other answer is an error
      if (res.statusCode !== 200 && res.statusCode !== 302)
        throw new Error(`${path}: the proxy answered ${res.statusCode} during churn`)
      const served = res.statusCode === 200
      if (served === added) return void result.propagationMs.push(performance.now() - start)
      if (performance.now() - start > PROBE_TIMEOUT_MS)
        throw new Error(`${path}: change not seen by the proxy within ${PROBE_TIMEOUT_MS} ms`)
      await new Promise((r) => setTimeout(r, REQUEST_PROBE_GAP_MS))
    }
  }
  /** Asks the proxy when it applied version v (after most changes are, then now and then). */
  const appliedProbe = async (v: number, start: number) => {
    for (let tries = 0; ; tries++) {
      await new Promise((r) => setTimeout(r, tries ? APPLIED_POLL_MS : APPLIED_FIRST_POLL_MS))
      const res = await probeClient.request({ path: `/_edgehub/proxy/health?applied=${v}`, method: 'GET' })
      const body = (await res.body.json()) as { version?: number; applied_ms?: number }
      if (body.applied_ms !== undefined)
        return void result.appliedMs.push(Math.max(0, body.applied_ms - epochMs(start)))
      if (Number(body.version) >= v)
        throw new Error(`change ${v}: applied, but the proxy has no time for it (a full resync?)`)
      if (performance.now() - start > PROBE_TIMEOUT_MS)
        throw new Error(`change ${v} not applied by the proxy within ${PROBE_TIMEOUT_MS} ms`)
    }
  }
  const track = (p: Promise<void>) => {
    const q = p.catch((err: Error) => void (failure ??= err))
    probes.add(q)
    void q.finally(() => probes.delete(q))
  }
  const change = async () => {
    const i = next++ % POOL
    const add = !present[i]
    present[i] = add
    const start = performance.now()
    const v = add
      ? await tables.set('routes', `/user/churn-${i}/`, {
          kind: 'user',
          target: `127.0.0.1:${upstreamPort}`,
          user: `churn-${i}`,
          server: '',
          token: 'bench-server-secret',
        })
      : await tables.del('routes', `/user/churn-${i}/`)
    result.changes++
    if (result.changes % REQUEST_PROBE_EVERY === 0) track(probe(i, add, start))
    else if (result.changes % APPLIED_PROBE_EVERY === Math.floor(APPLIED_PROBE_EVERY / 2)) track(appliedProbe(v, start))
  }
  // a tick every 10 ms catches up to the wanted count: timers drift, the rate does not
  const timer = setInterval(() => {
    if (!running) return
    const due = Math.floor(((performance.now() - t0) / 1000) * rate) - next
    for (let k = 0; k < due; k++) void change().catch((err: Error) => void (failure ??= err))
  }, 10)
  result.stop = async () => {
    running = false
    clearInterval(timer)
    result.seconds = (performance.now() - t0) / 1000
    await Promise.all(probes)
    await probeClient.close()
    if (failure) throw failure
  }
  return result
}

export const scenario: Scenario = {
  name: 'churn',
  title: 'Route churn while serving: 1,000 route changes per second during the HTTP load',
  async run(ctx) {
    const p = params.churn
    const durationSec = ctx.quick ? 2 : p.durationSec
    const rate = ctx.quick ? 200 : p.changesPerSec
    const upstream = await startUpstream(join(ctx.dir, 'upstream'))
    ctx.cleanups.push(() => upstream.stop())
    const stack = await startHubStack({
      dir: ctx.dir,
      cleanups: ctx.cleanups,
      overrides: { proxy: { workers: PROXY_WORKERS }, logLevel: 'warn' },
    })
    ctx.progress(`hub stack up; creating ${ctx.quick ? 10 : p.users} users and ${POOL} churn tokens`)
    const users = await hubUsers(stack.deps, benchUsers(ctx.quick ? 10 : p.users), upstream.port)
    const tokens = Array.from({ length: POOL }, (_, i) => `churn-token-${i}-${process.pid}`)
    for (let i = 0; i < POOL; i += 200) {
      await stack.deps.tables.apply(
        tokens.slice(i, i + 200).map((t, k) => ({
          table: 'tokens' as const,
          key: tokenDigest(t),
          value: { user: `churn-${i + k}`, expires_at: 0 },
        })),
      )
    }
    const requests = cookieRequests(users, p.path)
    await expectAnswer(stack.url, requests[0], 200, 'edgehub')
    const run = (label: string) =>
      loadRun({
        system: label,
        url: stack.url,
        pid: stack.proxy.pid,
        requests,
        connections: p.connections,
        durationSec,
        dir: ctx.dir,
      })
    await loadRun({
      system: 'warm-up',
      url: stack.url,
      pid: stack.proxy.pid,
      requests,
      connections: p.connections,
      durationSec: 1,
      dir: ctx.dir,
    })

    const quiet: LoadRun[] = []
    const churned: LoadRun[] = []
    const propagation: number[] = []
    const applied: number[] = []
    let changes = 0
    let churnSeconds = 0
    // CPU seconds the writer (this process: the hub's ProxyTables code and the probes) and Redis used
    // during the churn runs
    let writerCpu = 0
    let redisCpu = 0
    for (const phase of ctx.quick ? ['quiet', 'churn'] : ['quiet', 'churn', 'churn', 'quiet', 'quiet', 'churn']) {
      ctx.progress(
        `${phase === 'churn' ? `with ${rate} route changes/s` : 'without churn'}: ${p.connections} connections for ${durationSec} s`,
      )
      if (phase === 'quiet') {
        quiet.push(await run('no churn'))
        continue
      }
      const cpu0 = { self: process.cpuUsage(), redis: cpuSeconds([stack.redisPid]) }
      const churn = startChurn(stack.deps.tables, stack.url, upstream.port, tokens, rate)
      churned.push(await run('churn'))
      await churn.stop()
      const self = process.cpuUsage(cpu0.self)
      writerCpu += (self.user + self.system) / 1e6
      redisCpu += cpuSeconds([stack.redisPid]) - cpu0.redis
      changes += churn.changes
      churnSeconds += churn.seconds
      propagation.push(...churn.propagationMs)
      applied.push(...churn.appliedMs)
    }
    const [q, c] = [median(quiet), median(churned)]
    const kept = ratio(c.rps, q.rps)
    const prop = summary(propagation)
    const app = summary(applied)
    const achieved = Math.round(changes / churnSeconds)
    const perChange = (cpu: number) => Math.round((cpu * 1e6) / changes)
    // the churned runs' extra proxy CPU per request, times their requests/s, per change
    const proxyPerChange = Math.round(((c.cpuUsPerRequest - q.cpuUsPerRequest) * c.rps) / achieved)
    const churnCpu = {
      writerUsPerChange: perChange(writerCpu),
      redisUsPerChange: perChange(redisCpu),
      proxyExtraUsPerChange: proxyPerChange,
    }
    return {
      metrics: {
        durationSec,
        rate,
        achievedRate: achieved,
        changes,
        quiet,
        churned,
        appliedMs: app,
        propagationMs: prop,
        churnCpu,
      },
      tables: [
        {
          title: `HTTP load (${users.length} users, ${p.connections} connections, median of ${quiet.length} runs of ${durationSec} s each way)`,
          columns: ['', 'requests/s', 'p50 ms', 'p99 ms', 'proxy CPU µs/request'],
          rows: [
            ['without churn', q.rps, q.latencyMs.p50, q.latencyMs.p99, q.cpuUsPerRequest],
            [`with ${achieved} route changes/s`, c.rps, c.latencyMs.p50, c.latencyMs.p99, c.cpuUsPerRequest],
          ],
        },
        {
          title: `Propagation of sampled changes under the load (1 in ${APPLIED_PROBE_EVERY} until applied, 1 in ${REQUEST_PROBE_EVERY} until a request sees it): ms from the start of the write`,
          columns: ['until', 'samples', 'p50', 'p90', 'p99', 'max'],
          rows: [
            [
              'the proxy has applied it (its own record, health?applied=N)',
              app.count,
              app.p50,
              app.p90,
              app.p99,
              app.max,
            ],
            [
              'a request through the saturated proxy is answered accordingly',
              prop.count,
              prop.p50,
              prop.p90,
              prop.p99,
              prop.max,
            ],
          ],
        },
      ],
      targets: [
        // quiet and churned runs alternate in adjacent pairs (q c, c q, q c): round i is quiet[i] and churned[i]
        ratioTarget(
          'throughput with churn / without',
          kept,
          { op: '>=', goal: 0.9 },
          spreadOf(
            churned.map((r) => r.rps),
            quiet.map((r) => r.rps),
          ),
        ),
        bounded(
          "route propagation p99 under load: write until a client's request through the proxy is answered accordingly",
          prop.p99,
          { op: '<', goal: 10, unit: ' ms' },
          `${prop.p99} ms of ${prop.count} samples (the load's own request p99 under churn: ${c.latencyMs.p99} ms)`,
        ),
        reported(
          'route propagation p99 under load: write until the proxy has applied it (its own record)',
          `${app.p99} ms of ${app.count} samples`,
        ),
        bounded('route changes per second achieved', achieved, { op: '>=', goal: Math.round(rate * 0.95) }),
      ],
      notes: [
        "Route changes are written by the benchmark with the hub's own code (ProxyTables, the script the orchestrator runs when a server becomes ready or stops) against the hub stack's Redis; starting 1,000 real servers a second is scenario 6's subject, not this one's.",
        `CPU per route change during the churn runs: the writer (this benchmark process: the hub's ProxyTables code plus the probes) ${churnCpu.writerUsPerChange} µs, Redis ${churnCpu.redisUsPerChange} µs, the proxy ≈ ${churnCpu.proxyExtraUsPerChange} µs more than the same requests cost it without churn. At ${achieved} changes/s that is ${round(((churnCpu.writerUsPerChange + churnCpu.redisUsPerChange) * achieved) / 1e4, 0)}% of one core taken from the two that the proxy, wrk and the upstream already saturate, besides the proxy's own extra work.`,
        "Two probes, on different changes. The target is judged on what a client observes: requests through the same proxy, saturated by the load, until one is answered accordingly (its answer's arrival stops the clock). That includes the time the answering request waits behind the load's 64 connections, as any client's would. The other probe asks the proxy when it applied the change (every proxy worker serves a request that arrives after that moment according to the change, as workers drop changed entries from their caches at the start of each request); it is reported beside, as the proxy's own apply time, not judged.",
      ],
    }
  },
}
