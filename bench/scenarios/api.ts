// Scenario 7: hub API reads. A hub holding params.api.users users, params.api.running of them with
// a running server, answers, through the proxy, GET /hub/api/users pages (offset random over every
// user, 200 per page, admin token) and GET /hub/api/user (a user's own token), each loaded for a
// fixed time with wrk, first with one hub replica behind the proxy and then with two. Also: the
// admin page (/hub/admin, an admin's session) and a search on it and in the API, one request at a
// time; and how long a new replica takes from its spawn to answering GET /hub/health and
// GET /hub/api/, with a small user base and with the full one.
import { join } from 'node:path'
import { cpus } from 'node:os'
import type { Deps } from '../../test/support/hub-state'
import { benchUsers, params } from '../lib/params'
import { startReplicaStack, timeHubStart, type HubReplica, type ReplicaProxy } from '../lib/hub-replicas'
import { cpuSeconds, processTree } from '../lib/proc'
import { ratio, round, summary } from '../lib/stats'
import { badStatuses, runWrk, wrkErrors, type WrkRequest, type WrkResult } from '../lib/wrk'
import type { Plot, Scenario, ScenarioContext, Table } from '../lib/types'
import { bounded } from '../lib/verdict'

/** Users with tokens that call GET /hub/api/user in turn. */
const TOKEN_USERS = 100
/** Replica start timings per user-base size (the median is reported). */
const START_RUNS = 3
/** Users created at once while seeding. */
const SEED_WIDTH = 500
/** Users whose server is recorded as running (the rest have none). */
const RUNNING = 1000
/** Timed requests per admin page or search (one at a time; the first is reported apart). */
const PAGE_RUNS = 30

/**
 * Records every `stride`-th user's default server as running, as the hub records a started server
 * (through its Servers class, under a fresh fencing token), with activity: the admin page's state
 * filter and "running first" sort, and the models' server fields, have something to show. No
 * process runs: the scenario's hub checks servers once an hour only (hub.pollIntervalSec).
 */
async function seedRunning(deps: Deps, names: string[]): Promise<void> {
  const now = new Date().toISOString()
  for (let i = 0; i < names.length; i += SEED_WIDTH)
    await Promise.all(
      names.slice(i, i + SEED_WIDTH).map(async (user) => {
        // the lock's fence counter, never taken: a write with fence 1 is accepted
        const guard: Parameters<Deps['servers']['save']>[2] = {
          key: `${deps.keys.serverLock(user, '')}:fence`,
          fence: 1,
        }
        await deps.servers.save(user, '', guard, { state: 'running', started: now, url: '', target: '' })
        await deps.users.touch(user)
      }),
    )
}

/** Times GET path (through the proxy, as the admin) `runs` times, one at a time; ms each. */
async function timePages(
  base: string,
  path: string,
  headers: Record<string, string>,
  expect: string,
  runs: number,
): Promise<number[]> {
  const ms: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    const res = await fetch(`${base}${path}`, { headers, redirect: 'manual' })
    const body = await res.text()
    ms.push(performance.now() - t0)
    if (res.status !== 200 || !body.includes(expect))
      throw new Error(`GET ${path} answered ${res.status} without ${JSON.stringify(expect)}`)
  }
  return ms
}

async function seed(deps: Deps, names: string[], progress: (m: string) => void): Promise<void> {
  for (let i = 0; i < names.length; i += SEED_WIDTH) {
    await Promise.all(names.slice(i, i + SEED_WIDTH).map((name) => deps.users.create(name)))
    if ((i / SEED_WIDTH) % 40 === 39) progress(`${i + SEED_WIDTH} users created`)
  }
}

interface LoadResult extends WrkResult {
  /** CPU seconds of every hub replica during the run, per request, in µs. */
  hubCpuUsPerRequest: number
  /** The same for Redis, the proxy (all its processes) and wrk. */
  redisCpuUsPerRequest: number
  proxyCpuUsPerRequest: number
  wrkCpuUsPerRequest: number
}

export const scenario: Scenario = {
  name: 'api',
  title:
    'Hub API reads: paginated user lists with 100,000 users and /hub/api/user, 1 vs 2 hub replicas; replica start time',
  async run(ctx: ScenarioContext) {
    const p = params.api
    const total = ctx.quick ? 2000 : p.users
    const durationSec = ctx.quick ? 2 : p.durationSec
    const small = TOKEN_USERS

    ctx.progress('starting Redis and the benchmark users')
    // e.g. API_BENCH_HUB_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the hubs
    const hubNodeArgs = process.env.API_BENCH_HUB_NODE_ARGS?.split(' ').filter(Boolean)
    const stack = await startReplicaStack({
      dir: join(ctx.dir, 'stack'),
      cleanups: ctx.cleanups,
      hubNodeArgs,
      overrides: { hub: { pollIntervalSec: 3600 } },
    })
    const { deps } = stack
    const admin = `${params.userPrefix}admin`
    await deps.users.create(admin, { admin: true })
    const adminToken = (await deps.tokens.issue(admin, { note: 'api benchmark' })).token
    const tokenUsers = benchUsers(small)
    await seed(deps, tokenUsers, ctx.progress)
    const userTokens = await Promise.all(
      tokenUsers.map(async (u) => (await deps.tokens.issue(u, { note: 'api benchmark' })).token),
    )

    // Replica start with a small user base, then with the full one.
    const starts = async (label: string) => {
      const ms: number[] = []
      for (let i = 0; i < START_RUNS; i++) {
        ctx.progress(`replica start ${i + 1}/${START_RUNS} with ${label} users`)
        ms.push(await timeHubStart(stack))
      }
      return ms
    }
    const startSmall = await starts(String(small + 1))
    ctx.progress(`creating ${total} users`)
    await seed(deps, benchUsers(total).slice(small), ctx.progress)
    const users = await deps.users.count()
    const runningCount = ctx.quick ? 20 : RUNNING
    const stride = Math.max(1, Math.floor(total / runningCount))
    const runningUsers = benchUsers(total)
      .filter((_, i) => i % stride === 0)
      .slice(0, runningCount)
    ctx.progress(`recording ${runningUsers.length} running servers`)
    await seedRunning(deps, runningUsers)
    const startFull = await starts(String(users))

    const listRequests: WrkRequest[] = Array.from({ length: 1000 }, (_, i) => ({
      path: `/hub/api/users?offset=${Math.floor(((i * 7919) % 1000) * (users / 1000))}&limit=${p.pageSize}`,
      headers: { Authorization: `token ${adminToken}` },
    }))
    const userRequests: WrkRequest[] = userTokens.map((t) => ({
      path: '/hub/api/user',
      headers: { Authorization: `token ${t}` },
    }))

    const redisPid = stack.redis.child.proc.pid!
    const load = async (
      hubs: HubReplica[],
      proxy: ReplicaProxy,
      what: 'list' | 'user',
      connections = p.connections,
    ): Promise<LoadResult> => {
      const proxyPids = processTree(proxy.pid)
      const before = {
        hubs: hubs.map((h) => cpuSeconds([h.pid])),
        redis: cpuSeconds([redisPid]),
        proxy: cpuSeconds(proxyPids),
      }
      const r = await runWrk({
        url: proxy.url,
        requests: what === 'list' ? listRequests : userRequests,
        connections,
        durationSec,
        dir: ctx.dir,
        timeoutSec: 10,
      })
      if (wrkErrors(r) > 0)
        throw new Error(
          `${what} with ${hubs.length} replica(s): ${wrkErrors(r)} errors in ${r.requests} answers: ${badStatuses(r) || 'no bad status'}; sockets ${JSON.stringify(r.errors)}`,
        )
      const used = hubs.reduce((a, h, i) => a + cpuSeconds([h.pid]) - before.hubs[i], 0)
      const per = (seconds: number) => round((seconds * 1e6) / r.requests, 1)
      return {
        ...r,
        hubCpuUsPerRequest: per(used),
        redisCpuUsPerRequest: per(cpuSeconds([redisPid]) - before.redis),
        proxyCpuUsPerRequest: per(cpuSeconds(proxyPids) - before.proxy),
        wrkCpuUsPerRequest: per(r.cpuSeconds),
      }
    }

    ctx.progress('one hub replica')
    const hub1 = await stack.startHub()
    const proxy1 = await stack.startProxy([hub1])
    // a page must hold what it says (the check is also a warm-up)
    const check = await fetch(`${proxy1.url}/hub/api/users?offset=${users - 10}&limit=${p.pageSize}`, {
      headers: { Authorization: `token ${adminToken}`, Accept: 'application/jupyterhub-pagination+json' },
    })
    const body = (await check.json()) as { items: unknown[]; _pagination: { total: number } }
    if (check.status !== 200 || body._pagination.total !== users || body.items.length !== 10)
      throw new Error(
        `GET /hub/api/users answered ${check.status} with ${body.items?.length} items of ${body._pagination?.total}`,
      )
    // The admin page and searches, one request at a time before any load: the first answer of each
    // apart (cold: the hub's first render of that page), then the rest.
    ctx.progress('admin page and searches')
    const session = { cookie: `edgehub-session=${(await deps.sessions.create(admin)).cookie}`, accept: 'text/html' }
    const countText = `of ${users.toLocaleString('en-US')}`
    const searchFor = `${params.userPrefix}${Math.min(4242, total - 1)}`
    // each with the CPU the hub and Redis used per request (the machine is shared: latency alone
    // says little about the page's own cost)
    const timed = async (path: string, headers: Record<string, string>, expect: string) => {
      const before = { hub: cpuSeconds([hub1.pid]), redis: cpuSeconds([redisPid]) }
      const ms = await timePages(proxy1.url, path, headers, expect, PAGE_RUNS)
      const per = (seconds: number) => round((seconds * 1000) / PAGE_RUNS, 2)
      return {
        ms,
        hubCpuMs: per(cpuSeconds([hub1.pid]) - before.hub),
        redisCpuMs: per(cpuSeconds([redisPid]) - before.redis),
      }
    }
    const token = { Authorization: `token ${adminToken}` }
    const pages = {
      admin: await timed('/hub/admin', session, countText),
      active: await timed('/hub/admin?active=1', session, `of ${runningUsers.length.toLocaleString('en-US')}`),
      running: await timed('/hub/admin?sort=running', session, countText),
      search: await timed(`/hub/admin?q=${searchFor}`, session, searchFor),
      apiSearch: await timed(`/hub/api/users?name_filter=${searchFor}`, token, searchFor),
    }
    const single = await load([hub1], proxy1, 'list', 1)
    const one = { list: await load([hub1], proxy1, 'list'), user: await load([hub1], proxy1, 'user') }

    ctx.progress('two hub replicas')
    const hub2 = await stack.startHub()
    const proxy2 = await stack.startProxy([hub1, hub2])
    const two = { list: await load([hub1, hub2], proxy2, 'list'), user: await load([hub1, hub2], proxy2, 'user') }

    const pageRows = (
      [
        ['/hub/admin (50 users of all, by name)', pages.admin],
        ['/hub/admin?active=1 (running servers only)', pages.active],
        ['/hub/admin?sort=running (running first)', pages.running],
        [`/hub/admin?q=${searchFor} (search)`, pages.search],
        [`/hub/api/users?name_filter=${searchFor}`, pages.apiSearch],
      ] as const
    ).map(([label, t]) => {
      const rest = summary(t.ms.slice(1))
      const { hubCpuMs, redisCpuMs } = t
      return { label, first: round(t.ms[0], 1), p50: rest.p50, p99: rest.p99, max: rest.max, hubCpuMs, redisCpuMs }
    })
    const adminFirst = Math.max(pageRows[0].first, pageRows[0].p99)
    const searchWorst = Math.max(pageRows[3].first, pageRows[3].p99, pageRows[4].first, pageRows[4].p99)
    const s1 = summary(startSmall)
    const sN = summary(startFull)
    const row = (label: string, replicas: number, connections: number, r: LoadResult) => [
      label,
      replicas,
      connections,
      r.rps,
      r.latencyMs.p50,
      r.latencyMs.p99,
      r.latencyMs.p999,
      r.hubCpuUsPerRequest,
      r.redisCpuUsPerRequest,
      r.proxyCpuUsPerRequest,
      r.wrkCpuUsPerRequest,
    ]
    const page = `GET /hub/api/users?offset=…&limit=${p.pageSize}`
    const tables: Table[] = [
      {
        title: `Hub API reads through the proxy: ${users} users, ${durationSec} s each (${cpus().length} cores)`,
        columns: [
          'request',
          'replicas',
          'connections',
          'requests/s',
          'p50 ms',
          'p99 ms',
          'p99.9 ms',
          'hub CPU µs/request',
          'Redis CPU µs/request',
          'proxy CPU µs/request',
          'wrk CPU µs/request',
        ],
        rows: [
          row(page, 1, 1, single),
          row(page, 1, p.connections, one.list),
          row(page, 2, p.connections, two.list),
          row('GET /hub/api/user', 1, p.connections, one.user),
          row('GET /hub/api/user', 2, p.connections, two.user),
        ],
      },
      {
        title: `Admin page and searches through the proxy: ${users} users, ${runningUsers.length} running, one request at a time (${PAGE_RUNS} each; the first apart)`,
        columns: ['request', 'first ms', 'p50 ms', 'p99 ms', 'max ms', 'hub CPU ms/request', 'Redis CPU ms/request'],
        rows: pageRows.map((r) => [r.label, r.first, r.p50, r.p99, r.max, r.hubCpuMs, r.redisCpuMs]),
      },
      {
        title: `Hub replica start: ms from spawn until /hub/health and /hub/api/ answer 200 (${START_RUNS} runs each)`,
        columns: ['users in Redis', 'median ms', 'max ms'],
        rows: [
          [small + 1, s1.p50, s1.max],
          [users, sN.p50, sN.max],
        ],
      },
    ]
    const plots: Plot[] = [
      {
        kind: 'bars',
        name: 'api-latency',
        title: `Hub API latency with ${users} users (ms)`,
        yLabel: 'ms',
        categories: ['users page, 1 replica', 'users page, 2 replicas', '/user, 1 replica', '/user, 2 replicas'],
        series: (['p50', 'p99', 'p999'] as const).map((k) => ({
          name: k === 'p999' ? 'p99.9' : k,
          values: [one.list, two.list, one.user, two.user].map((r) => r.latencyMs[k]),
        })),
      },
    ]
    const machinePage = Math.round(
      one.list.hubCpuUsPerRequest +
        one.list.redisCpuUsPerRequest +
        one.list.proxyCpuUsPerRequest +
        one.list.wrkCpuUsPerRequest,
    )
    const worstPageP99 = Math.max(one.list.latencyMs.p99, two.list.latencyMs.p99)
    const startGrowth = ratio(sN.p50, s1.p50)
    return {
      metrics: {
        users,
        pageSize: p.pageSize,
        connections: p.connections,
        durationSec,
        running: runningUsers.length,
        adminPages: pageRows,
        oneClient: single,
        oneReplica: one,
        twoReplicas: two,
        listScaling: ratio(two.list.rps, one.list.rps),
        userScaling: ratio(two.user.rps, one.user.rps),
        replicaStartMs: {
          smallUserBase: { users: small + 1, runs: startSmall.map((x) => round(x, 1)) },
          fullUserBase: { users, runs: startFull.map((x) => round(x, 1)) },
        },
        replicaStartGrowth: startGrowth,
      },
      tables,
      targets: [
        bounded(
          `admin page with ${users} users (${runningUsers.length} running): first answer and p99`,
          adminFirst,
          { op: '<=', goal: 300, unit: ' ms' },
          `${pageRows[0].first} / ${pageRows[0].p99} ms`,
        ),
        bounded(
          `a search with ${users} users, admin page and API: first answer and p99`,
          searchWorst,
          { op: '<=', goal: 100, unit: ' ms' },
          `${pageRows[3].first} / ${pageRows[3].p99} ms (page), ${pageRows[4].first} / ${pageRows[4].p99} ms (API)`,
        ),
        bounded(
          `users page (${p.pageSize}) p99 with ${users} users, one client`,
          single.latencyMs.p99,
          { op: '<', goal: 20, unit: ' ms' },
          `${single.latencyMs.p99} ms`,
        ),
        bounded(
          `users page (${p.pageSize}) p99 with ${users} users, ${p.connections} connections, 1 and 2 replicas`,
          worstPageP99,
          { op: '<', goal: 20, unit: ' ms' },
          `${one.list.latencyMs.p99} / ${two.list.latencyMs.p99} ms`,
        ),
        bounded(
          `hub replica start with ${users} users in Redis (slowest of ${START_RUNS})`,
          sN.max,
          { op: '<', goal: 2000, unit: ' ms' },
          `${round(sN.max, 0)} ms (median ${round(sN.p50, 0)} ms)`,
        ),
        bounded(
          `hub replica start independent of the user count: full / ${small + 1} users`,
          startGrowth,
          { op: '<=', goal: 1.2 },
          `${startGrowth}×`,
        ),
      ],
      plots,
      notes: [
        `Two replicas serve ${ratio(two.list.rps, one.list.rps)}× the pages/s and ${ratio(two.user.rps, one.user.rps)}× the /hub/api/user requests/s of one. On ${cpus().length} cores shared with Redis, the proxy and wrk, a second Node process has little spare CPU to use; on a machine with free cores the replicas add up (the hub holds no state of its own).`,
        `A page costs ${one.list.hubCpuUsPerRequest} µs of hub CPU for ${p.pageSize} user models (records, groups, servers and activity read in one Redis script call answering JSON), and the machine as a whole ${machinePage} µs (Redis ${one.list.redisCpuUsPerRequest}, the proxy ${one.list.proxyCpuUsPerRequest}, wrk ${one.list.wrkCpuUsPerRequest}). With ${p.connections} requests in flight a request spends ${p.connections} / ${one.list.rps} pages/s = ${round((p.connections / one.list.rps) * 1000, 1)} ms in the system on average (Little's law; measured p50 ${one.list.latencyMs.p50} ms); the CPU alone sets a floor of ${p.connections} × ${machinePage} µs / ${cpus().length} cores = ${round((p.connections * machinePage) / cpus().length / 1000, 1)} ms under it, the rest is each page waiting its turn in the single-threaded hub and Redis. The start time is the whole Node process start (module loading dominates); no hub work at start grows with the number of users.`,
      ],
    }
  },
}
