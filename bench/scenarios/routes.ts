// Scenario 2: route table size. Edge proxies holding 100, 10,000 and 100,000 routes (one user, one
// session cookie and one token each) run side by side with configurable-http-proxies holding the
// same routes. Two edge proxies share each table: one gets the requests of the same 100 active users
// whatever the table size (what the size of the table costs), the other requests rotating over every
// user, so that at 100,000 nearly every request is a different user (what a working set beyond the
// per-worker caches costs). Throughput is compared across sizes (interleaved rounds, the sizes of
// each kind measured back to back), memory per 100,000 routes too.
import { join } from 'node:path'
import { benchUsers, params } from '../lib/params'
import { seedUsers, startEdgeProxy, startEdgeRedis } from '../lib/edge'
import { startChp } from '../lib/systems'
import { startUpstream } from '../lib/upstream'
import { expectAnswer } from '../lib/check'
import { errorNotes, type LoadRun } from '../lib/measure'
import { memoryKiB, processTree } from '../lib/proc'
import { ratio, round } from '../lib/stats'
import type { Scenario } from '../lib/types'
import { ratioTarget, reported, spreadOf } from '../lib/verdict'
import { cookieRequests, median, plainRequests, PROXY_WORKERS, runSystem, type System } from './http'

const ROUNDS = 3
/** Users sending requests in the fixed-working-set runs (the http scenario's users). */
const ACTIVE = params.http.users
/** Requests per user before measuring (each proxy worker keeps its own caches). */
const WARM_PASSES = 3
/** Room for 100,000 routes and tokens in the proxy's shared dict (proxy.sharedDictSize). */
const SHARED_DICT = '128m'

const mib = (kib: number) => round(kib / 1024, 1)

export const scenario: Scenario = {
  name: 'routes',
  title: 'Route table size: throughput and memory with 100, 10,000 and 100,000 routes',
  async run(ctx) {
    const p = params.routes
    const sizes = ctx.quick ? [10, 1000] : p.sizes
    const durationSec = ctx.quick ? 1 : p.durationSec
    const rounds = ctx.quick ? 1 : ROUNDS
    const upstream = await startUpstream(join(ctx.dir, 'upstream'))
    ctx.cleanups.push(() => upstream.stop())

    const systems: Array<System & { size: number; kind: 'edge' | 'edge-active' | 'chp' }> = []
    for (const size of sizes) {
      const users = benchUsers(size)
      ctx.progress(`${size} routes: seeding Redis, starting an edge proxy`)
      const edgeRedis = await startEdgeRedis(join(ctx.dir, `redis-${size}`), ctx.cleanups)
      const bench = await seedUsers(edgeRedis, users, upstream.port)
      const edge = await startEdgeProxy(edgeRedis, {
        runDir: join(ctx.dir, `edge-${size}`),
        workers: PROXY_WORKERS,
        sharedDictSize: SHARED_DICT,
        cleanups: ctx.cleanups,
      })
      // the fixed working set gets a proxy of its own: the other one's caches fill with every user
      const edgeActive = await startEdgeProxy(edgeRedis, {
        runDir: join(ctx.dir, `edge-active-${size}`),
        workers: PROXY_WORKERS,
        sharedDictSize: SHARED_DICT,
        cleanups: ctx.cleanups,
      })
      ctx.progress(`${size} routes: starting configurable-http-proxy and adding the routes through its API`)
      const chp = await startChp({ runDir: join(ctx.dir, `chp-${size}`), cleanups: ctx.cleanups })
      await chp.addRoutes(users, upstream.port, (n) => ctx.progress(`${size} routes: configurable-http-proxy has ${n}`))
      systems.push(
        {
          name: `edgehub ${size}`,
          size,
          kind: 'edge',
          url: edge.url,
          pid: edge.proxy.pid,
          requests: cookieRequests(bench, p.path),
        },
        {
          name: `configurable-http-proxy ${size}`,
          size,
          kind: 'chp',
          url: chp.url,
          pid: chp.pid,
          requests: plainRequests(bench, p.path),
          tolerateErrors: true,
        },
        {
          name: `edgehub ${size}, ${ACTIVE} active`,
          size,
          kind: 'edge-active',
          url: edgeActive.url,
          pid: edgeActive.proxy.pid,
          requests: cookieRequests(bench.slice(0, ACTIVE), p.path),
        },
      )
    }
    // First pass: 2 s with cold caches (reported), then until every user has been asked for about
    // WARM_PASSES times, so what is measured is the steady state of that many active users.
    const cold = new Map<string, LoadRun>()
    for (const s of systems) {
      await expectAnswer(s.url, s.requests[s.requests.length - 1], 200, s.name)
      const first = await runSystem(s, { connections: p.connections, durationSec: 2, dir: ctx.dir })
      cold.set(s.name, first)
      const more = s.kind === 'edge' ? Math.ceil((WARM_PASSES * s.size - first.requests) / first.rps) : 0 // CHP keeps no per-user caches
      if (more > 0) {
        ctx.progress(`warming ${s.name}: ${more} s`)
        await runSystem(s, { connections: p.connections, durationSec: more, dir: ctx.dir })
      }
    }
    // Measured kind by kind, the sizes of a kind back to back: the runs a ratio compares are the
    // closest in time, so the machine's drift between them is the least.
    const KINDS = ['edge-active', 'edge', 'chp']
    const order = [...systems].sort((a, b) => KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) || a.size - b.size)
    const runs = new Map<string, LoadRun[]>(systems.map((s) => [s.name, []]))
    for (let r = 1; r <= rounds; r++) {
      for (const s of r % 2 ? order : [...order].reverse()) {
        ctx.progress(`round ${r}/${rounds}: ${s.name}, ${p.connections} connections for ${durationSec} s`)
        runs.get(s.name)!.push(await runSystem(s, { connections: p.connections, durationSec, dir: ctx.dir }))
      }
    }
    const rows = systems.map((s) => {
      const m = median(runs.get(s.name)!)
      return { s, m, mem: memoryKiB(processTree(s.pid)) }
    })
    const edgeRows = rows.filter((r) => r.s.kind === 'edge')
    const activeRows = rows.filter((r) => r.s.kind === 'edge-active')
    const chpRows = rows.filter((r) => r.s.kind === 'chp')
    const [smallest, largest] = [edgeRows[0], edgeRows[edgeRows.length - 1]]
    /** requests/s of a system's runs, round by round */
    const rps = (r: (typeof rows)[number]) => runs.get(r.s.name)!.map((x) => x.rps)
    const drop = ratio(largest.m.rps, smallest.m.rps)
    const activeDrop = ratio(activeRows[activeRows.length - 1].m.rps, activeRows[0].m.rps)
    const label = (r: (typeof rows)[number]) =>
      r.s.kind === 'chp'
        ? 'configurable-http-proxy'
        : r.s.kind === 'edge'
          ? 'edgehub, every user active'
          : `edgehub, ${ACTIVE} users active`
    // what the routes cost: the growth from the smallest to the largest table, scaled to 100,000
    const per100k = (rs: typeof rows) => {
      const [a, b] = [rs[0], rs[rs.length - 1]]
      return {
        rss: mib(((b.mem.rss - a.mem.rss) * 100_000) / (b.s.size - a.s.size)),
        pss: mib(((b.mem.pss - a.mem.pss) * 100_000) / (b.s.size - a.s.size)),
      }
    }
    const [edgeMem, activeMem, chpMem] = [per100k(edgeRows), per100k(activeRows), per100k(chpRows)]
    return {
      metrics: {
        sizes,
        durationSec,
        rounds,
        sharedDict: SHARED_DICT,
        memoryPer100kRoutesMiB: { edgehub: activeMem, edgehubEveryUserActive: edgeMem, chp: chpMem },
        results: rows.map((r) => ({
          system: r.s.name,
          kind: r.s.kind,
          size: r.s.size,
          median: r.m,
          cold: cold.get(r.s.name),
          memoryKiB: r.mem,
          runs: runs.get(r.s.name),
        })),
      },
      tables: [
        {
          title: `Throughput and latency (median of ${rounds} runs of ${durationSec} s)`,
          columns: [
            'system',
            'routes',
            'requests/s',
            '× smallest',
            'p50 ms',
            'p99 ms',
            'CPU µs/request',
            'first 2 s (cold caches), requests/s',
          ],
          rows: [...activeRows, ...edgeRows, ...chpRows].map((r) => {
            const first = rows.filter((x) => x.s.kind === r.s.kind)[0].m
            return [
              label(r),
              r.s.size,
              r.m.rps,
              ratio(r.m.rps, first.rps),
              r.m.latencyMs.p50,
              r.m.latencyMs.p99,
              r.m.cpuUsPerRequest,
              cold.get(r.s.name)!.rps,
            ]
          }),
        },
        {
          title: 'Memory of all proxy processes after the runs (MiB; PSS counts shared memory once)',
          columns: ['system', 'routes', 'RSS', 'PSS'],
          rows: [
            ...[...activeRows, ...edgeRows, ...chpRows].map((r) => [
              label(r),
              r.s.size,
              mib(r.mem.rss),
              mib(r.mem.pss),
            ]),
            [label(activeRows[0]), 'per 100,000 routes', activeMem.rss, activeMem.pss],
            [label(edgeRows[0]), 'per 100,000 routes', edgeMem.rss, edgeMem.pss],
            ['configurable-http-proxy', 'per 100,000 routes', chpMem.rss, chpMem.pss],
          ],
        },
      ],
      targets: [
        ratioTarget(
          `edgehub throughput at ${largest.s.size} routes / at ${smallest.s.size}, ${ACTIVE} users active`,
          activeDrop,
          { op: '>=', goal: 0.97 },
          spreadOf(rps(activeRows.at(-1)!), rps(activeRows[0])),
        ),
        ratioTarget(
          `edgehub throughput at ${largest.s.size} routes / at ${smallest.s.size}, every user active`,
          drop,
          { op: '>=', goal: 0.97 },
          spreadOf(rps(largest), rps(smallest)),
        ),
        reported(
          'edgehub memory per 100,000 routes vs configurable-http-proxy (PSS)',
          `${activeMem.pss} MiB with ${ACTIVE} users active, ${edgeMem.pss} MiB with every user active, vs ${chpMem.pss} MiB`,
        ),
      ],
      plots: [
        {
          kind: 'line',
          name: 'routes-throughput',
          title: 'Throughput vs number of routes',
          xLabel: 'routes (log scale)',
          yLabel: 'requests/s',
          logX: true,
          series: [
            { name: `edgehub, ${ACTIVE} users active`, points: activeRows.map((r) => [r.s.size, r.m.rps]) },
            { name: 'edgehub, every user active', points: edgeRows.map((r) => [r.s.size, r.m.rps]) },
            { name: 'configurable-http-proxy', points: chpRows.map((r) => [r.s.size, r.m.rps]) },
          ],
        },
        {
          kind: 'line',
          name: 'routes-memory',
          title: 'Proxy memory (PSS) vs number of routes',
          xLabel: 'routes (log scale)',
          yLabel: 'MiB',
          logX: true,
          series: [
            { name: `edgehub, ${ACTIVE} users active`, points: activeRows.map((r) => [r.s.size, mib(r.mem.pss)]) },
            { name: 'edgehub, every user active', points: edgeRows.map((r) => [r.s.size, mib(r.mem.pss)]) },
            { name: 'configurable-http-proxy', points: chpRows.map((r) => [r.s.size, mib(r.mem.pss)]) },
          ],
        },
      ],
      notes: [
        ...errorNotes(runs),
        `Each edge proxy (${PROXY_WORKERS} workers, lua_shared_dict ${SHARED_DICT}) holds N routes and N API tokens; two edge proxies share each Redis. "${ACTIVE} users active" (a proxy of its own): the requests carry the session cookies of the same ${ACTIVE} users whatever N, so only the table's size changes. "Every user active": the requests carry N distinct session cookies in turn; each proxy was warmed until every user had been asked for ${WARM_PASSES} times (the steady state of that many active users); the first 2 s, with cold per-worker caches, are reported apart.`,
        'Memory per 100,000 routes is the growth from the smallest to the largest table after the same load, scaled; for edgehub it includes the 100,000 tokens. With every user active it also includes the per-worker caches (20,000 entries per table in each worker) filled with decoded routes, tokens and verified cookies.',
        "Every user active at 100,000: each worker caches 20,000 users, so most requests verify a cookie and decode a route again, and the workers' Lua heaps are large, which makes each garbage collection cycle and each cache lookup slower (a proxy with caches large enough for every user, 120,000 entries, measured 0.68× of the smallest table at 1 GiB RSS).",
      ],
    }
  },
}
