// Scenario 1: the proxy data plane over HTTP. GET /user/NAME/bench with a session cookie (and again
// with an API token) through the edgehub proxy, against plain nginx proxy_pass (no auth, one static
// upstream) and configurable-http-proxy holding the same routes; all to the same upstream.
import { cpus } from 'node:os'
import { join } from 'node:path'
import { benchUsers, params, userPath } from '../lib/params'
import { startUpstream } from '../lib/upstream'
import { startBaselineNginx, startChp } from '../lib/systems'
import { seedUsers, startEdgeProxy, startEdgeRedis, type BenchUser } from '../lib/edge'
import { expectAnswer } from '../lib/check'
import { errorNotes, loadRun, type LoadRun } from '../lib/measure'
import { ratio } from '../lib/stats'
import type { Scenario, ScenarioContext } from '../lib/types'
import type { WrkRequest } from '../lib/wrk'

/** Proxy worker processes for every nginx-based system: one per core, the edge proxy's default
 * (`proxy.workers: auto`); upstream keepalive is 64 in both. */
export const PROXY_WORKERS = cpus().length
/** Each system is measured this many times, interleaved; the median run is reported. */
const ROUNDS = 3

export const cookieRequests = (users: BenchUser[], path: string): WrkRequest[] =>
  users.map((u) => ({ path: userPath(path, u.name), headers: { Cookie: u.cookie } }))
export const tokenRequests = (users: BenchUser[], path: string): WrkRequest[] =>
  users.map((u) => ({ path: userPath(path, u.name), headers: { Authorization: `token ${u.token}` } }))
export const plainRequests = (users: BenchUser[], path: string): WrkRequest[] => users.map((u) => ({ path: userPath(path, u.name) }))

/** The run with the median throughput. */
export function median(runs: LoadRun[]): LoadRun {
  return [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]
}

export interface System {
  name: string
  url: string
  pid: number
  requests: WrkRequest[]
  /** configurable-http-proxy: error answers are reported, not fatal (it is not ours to fix). */
  tolerateErrors?: boolean
}

/** One load run against system s (its name, URL, processes, requests and error tolerance). */
export const runSystem = (s: System, o: { connections: number; durationSec: number; dir: string }) =>
  loadRun({ system: s.name, url: s.url, pid: s.pid, requests: s.requests, tolerateErrors: s.tolerateErrors, ...o })

/** Everything scenario 1 compares, started and checked. */
export async function startSystems(ctx: ScenarioContext, users: string[], path: string) {
  const upstream = await startUpstream(join(ctx.dir, 'upstream'))
  ctx.cleanups.push(() => upstream.stop())
  ctx.progress(`upstream on ${upstream.url}; starting nginx, configurable-http-proxy and the edge proxy with ${users.length} users`)
  const baseline = await startBaselineNginx({ runDir: join(ctx.dir, 'nginx'), upstreamPort: upstream.port, workers: PROXY_WORKERS, cleanups: ctx.cleanups })
  const chp = await startChp({ runDir: join(ctx.dir, 'chp'), cleanups: ctx.cleanups })
  await chp.addRoutes(users, upstream.port)
  const edgeRedis = await startEdgeRedis(ctx.dir, ctx.cleanups)
  const bench = await seedUsers(edgeRedis, users, upstream.port)
  const edge = await startEdgeProxy(edgeRedis, { runDir: join(ctx.dir, 'edge'), workers: PROXY_WORKERS, cleanups: ctx.cleanups })
  const systems = {
    nginx: { name: 'nginx', url: baseline.url, pid: baseline.pid, requests: plainRequests(bench, path) },
    cookie: { name: 'edgehub (cookie)', url: edge.url, pid: edge.proxy.pid, requests: cookieRequests(bench, path) },
    token: { name: 'edgehub (token)', url: edge.url, pid: edge.proxy.pid, requests: tokenRequests(bench, path) },
    chp: { name: 'configurable-http-proxy', url: chp.url, pid: chp.pid, requests: plainRequests(bench, path), tolerateErrors: true },
  } satisfies Record<string, System>
  for (const s of Object.values(systems)) await expectAnswer(s.url, s.requests[0], 200, s.name)
  await expectAnswer(edge.url, systems.nginx.requests[0], 302, 'edgehub without credentials')
  return { upstream, baseline, chp, edgeRedis, edge, bench, systems }
}

export const latencyRow = (r: LoadRun) => [r.system, r.rps, r.latencyMs.p50, r.latencyMs.p99, r.latencyMs.p999, r.cpuUsPerRequest]
export const LATENCY_COLUMNS = ['system', 'requests/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'proxy CPU µs/request']

export const scenario: Scenario = {
  name: 'http',
  title: 'Proxy data plane, HTTP: edgehub (cookie, token) vs plain nginx vs configurable-http-proxy',
  async run(ctx) {
    const p = params.http
    const users = benchUsers(ctx.quick ? 10 : p.users)
    const durationSec = ctx.quick ? 1 : p.durationSec
    const rounds = ctx.quick ? 1 : ROUNDS
    const { systems } = await startSystems(ctx, users, p.path)
    const order: System[] = [systems.nginx, systems.cookie, systems.token, systems.chp]
    const runs = new Map<string, LoadRun[]>(order.map((s) => [s.name, []]))
    for (const s of order) {
      // warm-up: connections, caches, JIT
      await runSystem(s, { connections: p.connections, durationSec: 1, dir: ctx.dir })
    }
    for (let round = 1; round <= rounds; round++) {
      for (const s of round % 2 ? order : [...order].reverse()) {
        ctx.progress(`round ${round}/${rounds}: ${s.name}, ${p.connections} connections for ${durationSec} s`)
        runs.get(s.name)!.push(await runSystem(s, { connections: p.connections, durationSec, dir: ctx.dir }))
      }
    }
    const m = Object.fromEntries([...runs].map(([k, v]) => [k, median(v)]))
    const nginx = m[systems.nginx.name]
    const chp = m[systems.chp.name]
    const targets = [systems.cookie, systems.token].flatMap((s) => {
      const e = m[s.name]
      const tp = ratio(e.rps, nginx.rps)
      const p99 = ratio(e.latencyMs.p99, nginx.latencyMs.p99)
      const vsChp = ratio(e.rps, chp.rps)
      return [
        { name: `${s.name} throughput / nginx`, goal: '>= 0.9', value: `${tp}`, met: tp >= 0.9 },
        { name: `${s.name} p99 / nginx`, goal: '<= 1.3', value: `${p99}`, met: p99 <= 1.3 },
        { name: `${s.name} throughput / configurable-http-proxy`, goal: '>= 5', value: `${vsChp}`, met: vsChp >= 5 },
      ]
    })
    const order4 = order.map((s) => m[s.name])
    return {
      metrics: { users: users.length, connections: p.connections, durationSec, rounds, workers: PROXY_WORKERS, median: m, runs: Object.fromEntries(runs) },
      tables: [
        { title: `${users.length} users, ${p.connections} connections, median of ${rounds} runs of ${durationSec} s`, columns: LATENCY_COLUMNS, rows: order4.map(latencyRow) },
        {
          title: 'Ratios to plain nginx',
          columns: ['system', 'throughput', 'p50', 'p99', 'p99.9'],
          rows: order4.map((r) => [r.system, ratio(r.rps, nginx.rps), ratio(r.latencyMs.p50, nginx.latencyMs.p50), ratio(r.latencyMs.p99, nginx.latencyMs.p99), ratio(r.latencyMs.p999, nginx.latencyMs.p999)]),
        },
      ],
      targets,
      plots: [
        { kind: 'bars', name: 'http-throughput', title: 'HTTP throughput through each proxy', yLabel: 'requests/s', categories: order4.map((r) => r.system), series: [{ name: 'requests/s', values: order4.map((r) => r.rps) }] },
        {
          kind: 'bars',
          name: 'http-latency',
          title: 'HTTP latency percentiles per proxy',
          yLabel: 'ms',
          categories: ['p50', 'p99', 'p99.9'],
          series: order4.map((r) => ({ name: r.system, values: [r.latencyMs.p50, r.latencyMs.p99, r.latencyMs.p999] })),
        },
      ],
      notes: [
        ...errorNotes(runs),
        `All proxies forward to the same upstream (nginx answering "ok", one worker); nginx-based proxies run ${PROXY_WORKERS} workers (one per core, the edge proxy's default) with upstream keepalive 64 and a JSON access log; wrk runs one thread. Everything shares the machine's ${cpus().length} cores, so throughput is what the whole machine reaches, and CPU µs/request is each proxy's own cost.`,
      ],
    }
  },
}
