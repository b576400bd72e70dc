// Scenario 4: route churn while serving. Scenario 1's cookie load runs through the proxy of a real
// hub stack while 1,000 route adds/removes per second are written the way the hub writes them (the
// proxy-table script the orchestrator runs when a server becomes ready or stops). Throughput with
// and without churn is compared (interleaved), and sampled changes are timed until the proxy serves
// (or refuses) them.
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Client } from 'undici'
import { benchUsers, params } from '../lib/params'
import { startHubStack } from '../lib/hub-stack'
import { hubUsers } from '../lib/hub-users'
import { startUpstream } from '../lib/upstream'
import { expectAnswer } from '../lib/check'
import { loadRun, type LoadRun } from '../lib/measure'
import { ratio, summary } from '../lib/stats'
import { tokenDigest } from '../../control-plane/src/state/token-digest'
import type { ProxyTables } from '../../control-plane/src/state/proxy-tables'
import type { Scenario } from '../lib/types'
import { cookieRequests, median, PROXY_WORKERS } from './http'

const POOL = 1000 // churned users: each change adds or removes one of their routes
const PROBE_EVERY = 25 // one change in this many is timed until the proxy shows it
const PROBE_TIMEOUT_MS = 5000

interface Churn {
  changes: number
  seconds: number
  propagationMs: number[]
  stop(): Promise<void>
}

/** Writes `rate` route changes per second until stopped; times every PROBE_EVERY-th at the proxy. */
function startChurn(tables: ProxyTables, proxyUrl: string, upstreamPort: number, tokens: string[], rate: number): Churn {
  const present = new Array<boolean>(POOL).fill(false)
  const probes = new Set<Promise<void>>()
  const result: Churn = { changes: 0, seconds: 0, propagationMs: [], stop: async () => {} }
  const probeClient = new Client(proxyUrl, { pipelining: 0, connections: 8 } as ConstructorParameters<typeof Client>[1])
  let next = 0
  let running = true
  let failure: Error | undefined
  const t0 = performance.now()

  const probe = async (i: number, added: boolean, start: number) => {
    const path = `/user/churn-${i}/bench`
    for (;;) {
      const res = await probeClient.request({ path, method: 'GET', headers: { authorization: `token ${tokens[i]}` } })
      await res.body.dump()
      const served = res.statusCode === 200
      if (served === added) return void result.propagationMs.push(performance.now() - start)
      if (performance.now() - start > PROBE_TIMEOUT_MS) throw new Error(`${path}: change not seen by the proxy within ${PROBE_TIMEOUT_MS} ms`)
    }
  }
  const change = async () => {
    const i = next++ % POOL
    const add = !present[i]
    present[i] = add
    const start = performance.now()
    if (add) await tables.set('routes', `/user/churn-${i}/`, { kind: 'user', target: `127.0.0.1:${upstreamPort}`, user: `churn-${i}`, server: '', token: 'bench-server-secret' })
    else await tables.del('routes', `/user/churn-${i}/`)
    result.changes++
    if (result.changes % PROBE_EVERY === 0) {
      const p = probe(i, add, start).catch((err: Error) => void (failure ??= err))
      probes.add(p)
      void p.finally(() => probes.delete(p))
    }
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
    const stack = await startHubStack({ dir: ctx.dir, cleanups: ctx.cleanups, overrides: { proxy: { workers: PROXY_WORKERS }, logLevel: 'warn' } })
    ctx.progress(`hub stack up; creating ${ctx.quick ? 10 : p.users} users and ${POOL} churn tokens`)
    const users = await hubUsers(stack.deps, benchUsers(ctx.quick ? 10 : p.users), upstream.port)
    const tokens = Array.from({ length: POOL }, (_, i) => `churn-token-${i}-${process.pid}`)
    for (let i = 0; i < POOL; i += 200) {
      await stack.deps.tables.apply(tokens.slice(i, i + 200).map((t, k) => ({ table: 'tokens' as const, key: tokenDigest(t), value: { user: `churn-${i + k}`, expires_at: 0 } })))
    }
    const requests = cookieRequests(users, p.path)
    await expectAnswer(stack.url, requests[0], 200, 'edgehub')
    const run = (label: string) => loadRun({ system: label, url: stack.url, pid: stack.proxy.pid, requests, connections: p.connections, durationSec, dir: ctx.dir })
    await loadRun({ system: 'warm-up', url: stack.url, pid: stack.proxy.pid, requests, connections: p.connections, durationSec: 1, dir: ctx.dir })

    const quiet: LoadRun[] = []
    const churned: LoadRun[] = []
    const propagation: number[] = []
    let changes = 0
    let churnSeconds = 0
    for (const phase of ctx.quick ? ['quiet', 'churn'] : ['quiet', 'churn', 'churn', 'quiet', 'quiet', 'churn']) {
      ctx.progress(`${phase === 'churn' ? `with ${rate} route changes/s` : 'without churn'}: ${p.connections} connections for ${durationSec} s`)
      if (phase === 'quiet') {
        quiet.push(await run('no churn'))
        continue
      }
      const churn = startChurn(stack.deps.tables, stack.url, upstream.port, tokens, rate)
      churned.push(await run('churn'))
      await churn.stop()
      changes += churn.changes
      churnSeconds += churn.seconds
      propagation.push(...churn.propagationMs)
    }
    const [q, c] = [median(quiet), median(churned)]
    const kept = ratio(c.rps, q.rps)
    const prop = summary(propagation)
    const achieved = Math.round(changes / churnSeconds)
    return {
      metrics: { durationSec, rate, achievedRate: achieved, changes, quiet, churned, propagationMs: prop },
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
          title: `Propagation of sampled changes (1 in ${PROBE_EVERY}, under the load): ms from the write until the proxy answers accordingly`,
          columns: ['samples', 'p50', 'p90', 'p99', 'max'],
          rows: [[prop.count, prop.p50, prop.p90, prop.p99, prop.max]],
        },
      ],
      targets: [
        { name: 'throughput with churn / without', goal: '>= 0.9', value: String(kept), met: kept >= 0.9 },
        { name: 'route propagation p99 under load', goal: '< 10 ms', value: `${prop.p99} ms`, met: prop.p99 < 10 },
        { name: 'route changes per second achieved', goal: `>= ${Math.round(rate * 0.95)}`, value: String(achieved), met: achieved >= rate * 0.95 },
      ],
      notes: [
        'Route changes are written by the benchmark with the hub\'s own code (ProxyTables, the script the orchestrator runs when a server becomes ready or stops) against the hub stack\'s Redis; starting 1,000 real servers a second is scenario 6\'s subject, not this one\'s.',
        'A probe is a request through the same proxy while it is saturated by the load, so each includes that queueing.',
      ],
    }
  },
}
