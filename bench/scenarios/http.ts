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
import { ratio, round } from '../lib/stats'
import type { Scenario, ScenarioContext, Table } from '../lib/types'
import { cannotPin, pinTree, PROXY_CPU, WRK_CPU } from '../lib/pin'
import { ratioTarget, reported, spreadOf } from '../lib/verdict'
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
export const plainRequests = (users: BenchUser[], path: string): WrkRequest[] =>
  users.map((u) => ({ path: userPath(path, u.name) }))

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
export const runSystem = (s: System, o: { connections: number; durationSec: number; dir: string; wrkCpus?: string }) =>
  loadRun({ system: s.name, url: s.url, pid: s.pid, requests: s.requests, tolerateErrors: s.tolerateErrors, ...o })

/** Everything scenario 1 compares, started and checked. */
export async function startSystems(ctx: ScenarioContext, users: string[], path: string) {
  const upstream = await startUpstream(join(ctx.dir, 'upstream'))
  ctx.cleanups.push(() => upstream.stop())
  ctx.progress(
    `upstream on ${upstream.url}; starting nginx, configurable-http-proxy and the edge proxy with ${users.length} users`,
  )
  const baseline = await startBaselineNginx({
    runDir: join(ctx.dir, 'nginx'),
    upstreamPort: upstream.port,
    workers: PROXY_WORKERS,
    cleanups: ctx.cleanups,
  })
  const chp = await startChp({ runDir: join(ctx.dir, 'chp'), cleanups: ctx.cleanups })
  await chp.addRoutes(users, upstream.port)
  const edgeRedis = await startEdgeRedis(ctx.dir, ctx.cleanups)
  const bench = await seedUsers(edgeRedis, users, upstream.port)
  const edge = await startEdgeProxy(edgeRedis, {
    runDir: join(ctx.dir, 'edge'),
    workers: PROXY_WORKERS,
    cleanups: ctx.cleanups,
  })
  const systems = {
    nginx: { name: 'nginx', url: baseline.url, pid: baseline.pid, requests: plainRequests(bench, path) },
    cookie: { name: 'edgehub (cookie)', url: edge.url, pid: edge.proxy.pid, requests: cookieRequests(bench, path) },
    token: { name: 'edgehub (token)', url: edge.url, pid: edge.proxy.pid, requests: tokenRequests(bench, path) },
    chp: {
      name: 'configurable-http-proxy',
      url: chp.url,
      pid: chp.pid,
      requests: plainRequests(bench, path),
      tolerateErrors: true,
    },
  } satisfies Record<string, System>
  for (const s of Object.values(systems)) await expectAnswer(s.url, s.requests[0], 200, s.name)
  await expectAnswer(edge.url, systems.nginx.requests[0], 302, 'edgehub without credentials')
  return { upstream, baseline, chp, edgeRedis, edge, bench, systems }
}

export const latencyRow = (r: LoadRun) => [
  r.system,
  r.rps,
  r.latencyMs.p50,
  r.latencyMs.p99,
  r.latencyMs.p999,
  r.cpuUsPerRequest,
]
export const LATENCY_COLUMNS = ['system', 'requests/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'proxy CPU µs/request']

export const scenario: Scenario = {
  name: 'http',
  title: 'Proxy data plane, HTTP: edgehub (cookie, token) vs plain nginx vs configurable-http-proxy',
  async run(ctx) {
    const p = params.http
    const users = benchUsers(ctx.quick ? 10 : p.users)
    const durationSec = ctx.quick ? 1 : p.durationSec
    const rounds = ctx.quick ? 1 : ROUNDS
    const { systems, upstream, edgeRedis, bench } = await startSystems(ctx, users, p.path)
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
    /** a figure of a system's runs, round by round */
    const per = (name: string, f: (r: LoadRun) => number) => runs.get(name)!.map(f)
    const targets = [systems.cookie, systems.token].flatMap((s) => {
      const e = m[s.name]
      const rps = (r: LoadRun) => r.rps
      const p99 = (r: LoadRun) => r.latencyMs.p99
      const cpu = (r: LoadRun) => r.cpuUsPerRequest
      return [
        ratioTarget(
          `${s.name} throughput / nginx`,
          ratio(e.rps, nginx.rps),
          { op: '>=', goal: 0.9 },
          spreadOf(per(s.name, rps), per(systems.nginx.name, rps)),
        ),
        reported(
          `${s.name} proxy CPU per request / nginx (shared cores)`,
          String(ratio(e.cpuUsPerRequest, nginx.cpuUsPerRequest)),
          spreadOf(per(s.name, cpu), per(systems.nginx.name, cpu)),
        ),
        ratioTarget(
          `${s.name} p99 / nginx`,
          ratio(e.latencyMs.p99, nginx.latencyMs.p99),
          { op: '<=', goal: 1.3 },
          spreadOf(per(s.name, p99), per(systems.nginx.name, p99)),
        ),
        ratioTarget(
          `${s.name} throughput / configurable-http-proxy`,
          ratio(e.rps, chp.rps),
          { op: '>=', goal: 5 },
          spreadOf(per(s.name, rps), per(systems.chp.name, rps)),
        ),
      ]
    })

    // Efficiency: one proxy worker pinned to a CPU of its own, wrk pinned to another, the upstream
    // left to the scheduler; configurable-http-proxy is left out (its own CPU per request is in the
    // table above, ten times nginx's).
    const noPin = cannotPin()
    const pinnedRuns = new Map<string, LoadRun[]>()
    const pinnedTables: Table[] = []
    const pinnedNotes: string[] = []
    if (noPin) {
      pinnedNotes.push(`No pinned efficiency runs: ${noPin}.`)
    } else {
      const one = await startBaselineNginx({
        runDir: join(ctx.dir, 'nginx-pinned'),
        upstreamPort: upstream.port,
        workers: 1,
        cleanups: ctx.cleanups,
      })
      const edgeOne = await startEdgeProxy(edgeRedis, {
        runDir: join(ctx.dir, 'edge-pinned'),
        workers: 1,
        cleanups: ctx.cleanups,
      })
      pinTree(one.pid, PROXY_CPU)
      pinTree(edgeOne.proxy.pid, PROXY_CPU)
      const pinned: System[] = [
        { name: 'nginx', url: one.url, pid: one.pid, requests: plainRequests(bench, p.path) },
        { name: 'edgehub (cookie)', url: edgeOne.url, pid: edgeOne.proxy.pid, requests: cookieRequests(bench, p.path) },
        { name: 'edgehub (token)', url: edgeOne.url, pid: edgeOne.proxy.pid, requests: tokenRequests(bench, p.path) },
      ]
      for (const s of pinned) {
        await expectAnswer(s.url, s.requests[0], 200, `${s.name}, one pinned worker`)
        pinnedRuns.set(s.name, [])
        await runSystem(s, { connections: p.connections, durationSec: 1, dir: ctx.dir, wrkCpus: WRK_CPU })
      }
      for (let round = 1; round <= rounds; round++) {
        for (const s of round % 2 ? pinned : [...pinned].reverse()) {
          ctx.progress(
            `pinned round ${round}/${rounds}: ${s.name}, one worker on CPU ${PROXY_CPU}, wrk on CPU ${WRK_CPU}, ${durationSec} s`,
          )
          pinnedRuns
            .get(s.name)!
            .push(await runSystem(s, { connections: p.connections, durationSec, dir: ctx.dir, wrkCpus: WRK_CPU }))
        }
      }
      const pm = Object.fromEntries([...pinnedRuns].map(([k, v]) => [k, median(v)]))
      const busy = (r: LoadRun) => round((r.cpuUsPerRequest * r.rps) / 1e4, 0)
      const pper = (name: string, f: (r: LoadRun) => number) => pinnedRuns.get(name)!.map(f)
      pinnedTables.push({
        title: `Efficiency: one proxy worker pinned to CPU ${PROXY_CPU}, wrk to CPU ${WRK_CPU}, the upstream unpinned (median of ${rounds} runs of ${durationSec} s)`,
        columns: [
          'system',
          'requests/s',
          '× nginx',
          'proxy CPU µs/request',
          '× nginx',
          'proxy CPU busy %',
          'p99 ms',
          'wrk CPU µs/request',
        ],
        rows: pinned.map((s) => {
          const r = pm[s.name]
          return [
            s.name,
            r.rps,
            ratio(r.rps, pm.nginx.rps),
            r.cpuUsPerRequest,
            ratio(r.cpuUsPerRequest, pm.nginx.cpuUsPerRequest),
            busy(r),
            r.latencyMs.p99,
            r.wrkCpuUsPerRequest,
          ]
        }),
      })
      for (const s of pinned.slice(1)) {
        const r = pm[s.name]
        targets.push(
          reported(
            `${s.name} proxy CPU per request / nginx, one pinned worker`,
            String(ratio(r.cpuUsPerRequest, pm.nginx.cpuUsPerRequest)),
            spreadOf(
              pper(s.name, (x) => x.cpuUsPerRequest),
              pper('nginx', (x) => x.cpuUsPerRequest),
            ),
          ),
          reported(
            `${s.name} throughput / nginx, one pinned worker`,
            String(ratio(r.rps, pm.nginx.rps)),
            spreadOf(
              pper(s.name, (x) => x.rps),
              pper('nginx', (x) => x.rps),
            ),
          ),
        )
      }
      pinnedNotes.push(
        `Efficiency runs: each proxy with one worker, all its processes pinned to CPU ${PROXY_CPU} (taskset), wrk pinned to CPU ${WRK_CPU}, the upstream (one nginx worker) wherever the scheduler puts it. The proxy's CPU per request is then its own, not shared with wrk's, and its throughput is what one core of it reaches: "proxy CPU busy %" near 100 means the proxy's core was the limit, so the throughput ratio follows the CPU-per-request ratio. On the shared cores above, wrk and the upstream take a share of the machine that does not grow with the proxy's cost, which flatters throughput ratios: compare the CPU-per-request ratios.`,
      )
    }
    const order4 = order.map((s) => m[s.name])
    return {
      metrics: {
        users: users.length,
        connections: p.connections,
        durationSec,
        rounds,
        workers: PROXY_WORKERS,
        median: m,
        runs: Object.fromEntries(runs),
        pinned: noPin
          ? { skipped: noPin }
          : { proxyCpu: PROXY_CPU, wrkCpu: WRK_CPU, workers: 1, runs: Object.fromEntries(pinnedRuns) },
      },
      tables: [
        {
          title: `${users.length} users, ${p.connections} connections, median of ${rounds} runs of ${durationSec} s`,
          columns: LATENCY_COLUMNS,
          rows: order4.map(latencyRow),
        },
        {
          title: 'Ratios to plain nginx',
          columns: ['system', 'throughput', 'proxy CPU per request', 'p50', 'p99', 'p99.9'],
          rows: order4.map((r) => [
            r.system,
            ratio(r.rps, nginx.rps),
            ratio(r.cpuUsPerRequest, nginx.cpuUsPerRequest),
            ratio(r.latencyMs.p50, nginx.latencyMs.p50),
            ratio(r.latencyMs.p99, nginx.latencyMs.p99),
            ratio(r.latencyMs.p999, nginx.latencyMs.p999),
          ]),
        },
        ...pinnedTables,
      ],
      targets,
      plots: [
        {
          kind: 'bars',
          name: 'http-throughput',
          title: 'HTTP throughput through each proxy',
          yLabel: 'requests/s',
          categories: order4.map((r) => r.system),
          series: [{ name: 'requests/s', values: order4.map((r) => r.rps) }],
        },
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
        "Every answer's status is counted (wrk's response hook): for edgehub and nginx any answer outside 2xx, a 3xx included, or a socket error fails the scenario; configurable-http-proxy's would be counted and reported here.",
        `All proxies forward to the same upstream (nginx answering "ok", one worker); nginx-based proxies run ${PROXY_WORKERS} workers (one per core, the edge proxy's default) with upstream keepalive 64 and a JSON access log; wrk runs one thread. Everything shares the machine's ${cpus().length} cores, so throughput is what the whole machine reaches, and CPU µs/request is each proxy's own cost.`,
        ...pinnedNotes,
      ],
    }
  },
}
