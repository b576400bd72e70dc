// Scenario 6: spawn storm. N users ask for their server at the same moment through the REST API
// (POST /hub/api/users/NAME/server with each user's own token, all through the proxy), with the real
// local-process spawner starting a busybox httpd per user. A user counts as ready once GET /user/NAME/
// through the proxy with their token is answered by their own busybox (not the proxy's redirect to
// /hub/). Then every server is stopped at once (DELETE …/server) and timed until no route is left.
// Twice, each on a stack of its own: judged with hub.concurrentSpawnLimit raised to N (so no start
// can be refused), then with the default limit, each 429 retried after its Retry-After, to report
// the queueing a storm meets in a default deployment.
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Agent, request } from 'undici'
import { alive } from '../../runtime/src/process-tree'
import type { SpawnerState } from '../../spawners/src/spawner'
import { benchUsers, params } from '../lib/params'
import { startHubStack } from '../lib/hub-stack'
import { cpuSeconds, memoryKiB, processTree } from '../lib/proc'
import { round, summary } from '../lib/stats'
import { Cleanups } from '../lib/cleanup'
import type { Plot, Scenario, ScenarioContext, Table } from '../lib/types'
import { check, reported } from '../lib/verdict'
import { removeStackAccounts, testPrefix } from '../../test/support/accounts'

/** The Unix accounts of this run's users when the hub runs as root: a prefix of the run's own. */
const accountPrefix = testPrefix()

const BUSYBOX = '/usr/bin/busybox'
/** First wait between two routability checks of one user; doubled up to MAX_POLL_MS. */
const FIRST_POLL_MS = 5
const MAX_POLL_MS = 200

interface UserRun {
  name: string
  token: string
  /** Status of the start request, or a word for a failure without one ('network', …). */
  startStatus?: number | string
  startMs?: number
  /** 429 answers this user got before the start was accepted (the default-limit storm retries). */
  throttled: number
  /** From the burst to the first answer of the user's busybox through the proxy. */
  readyMs?: number
  stopStatus?: number | string
  stopMs?: number
  /** From the stop burst until the proxy no longer routes to the server. */
  goneMs?: number
  pid?: SpawnerState
}

const page = (user: string) => `busybox ${user}\n`

/** Every user's page under its base URL, in the one directory every busybox serves. */
function writeSite(root: string, users: string[]): void {
  for (const u of users) {
    mkdirSync(join(root, 'user', u), { recursive: true })
    writeFileSync(join(root, 'user', u, 'index.html'), page(u))
  }
}

/** Runs fn over items with at most `width` at a time. */
async function inBatches<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(fn))
}

function countBy(values: Array<number | string | undefined>): Map<string, number> {
  const out = new Map<string, number>()
  for (const v of values) out.set(String(v ?? 'none'), (out.get(String(v ?? 'none')) ?? 0) + 1)
  return out
}

/** Cumulative count over time, in 0.1 s steps (for the plot). */
function curve(msSamples: number[]): Array<[number, number]> {
  const s = [...msSamples].sort((a, b) => a - b)
  const points: Array<[number, number]> = [[0, 0]]
  let i = 0
  const end = s.length ? s[s.length - 1] : 0
  for (let t = 100; t < end + 100; t += 100) {
    while (i < s.length && s[i] <= t) i++
    points.push([t / 1000, i])
  }
  return points
}

/** The spawner's launcher: the hub's child process running launcher.mjs (forked on the first spawn). */
function launcherPid(hubPid: number): number | undefined {
  return processTree(hubPid).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('launcher.mjs')
    } catch {
      return false
    }
  })
}

/** Busy and total jiffies of the whole machine, from the first line of /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number)
  const total = f.reduce((a, b) => a + b, 0)
  return { busy: total - f[3] - f[4], total } // minus idle and iowait
}

/** Wall time and the CPU seconds every part used during one phase of the scenario. */
class Phase {
  private readonly t0 = performance.now()
  private readonly cpu0
  constructor(private readonly pids: { hub: number; launcher?: number; redis: number; proxy: number }) {
    this.cpu0 = this.cpu()
  }
  private cpu() {
    const m = machineTicks()
    return {
      hub: cpuSeconds([this.pids.hub]),
      launcher: this.pids.launcher ? cpuSeconds([this.pids.launcher]) : 0,
      redis: cpuSeconds([this.pids.redis]),
      proxy: cpuSeconds(processTree(this.pids.proxy)),
      client: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
      machineBusy: m.busy,
      machineTotal: m.total,
    }
  }
  elapsed(): number {
    return performance.now() - this.t0
  }
  cpuUsed() {
    const now = this.cpu()
    const d = (k: 'hub' | 'launcher' | 'redis' | 'proxy' | 'client') => round(now[k] - this.cpu0[k], 2)
    return {
      hub: d('hub'),
      launcher: d('launcher'),
      redis: d('redis'),
      proxy: d('proxy'),
      benchmarkClient: d('client'),
      /** Share of the machine's CPU time (every core) that was busy. */
      machineBusyPct: round(
        (100 * (now.machineBusy - this.cpu0.machineBusy)) / Math.max(1, now.machineTotal - this.cpu0.machineTotal),
        1,
      ),
    }
  }
}

interface StormOptions {
  /** Names the run (its directory, its progress lines). */
  label: string
  /** hub.concurrentSpawnLimit; undefined: the configuration's default. */
  limit?: number
  /** Retry a 429 after its Retry-After, as a client following the header would. */
  retry: boolean
  /** Quick mode only: wait at most this long instead of the Retry-After (30–60 s). */
  retryCapSec?: number
}

/** One storm on a stack of its own: N starts at once, ready through the proxy, then N stops at once. */
async function storm(ctx: ScenarioContext, names: string[], site: string, opts: StormOptions) {
  // the stack is stopped when this storm is over, before the next one starts
  const cleanups = new Cleanups()
  const stopAll = ctx.cleanups.push(() => cleanups.runAll())
  try {
    const p = params.spawn
    const n = names.length
    const warmup = `${params.userPrefix}warmup`
    const dir = join(ctx.dir, opts.label)

    ctx.progress(`${opts.label}: starting Redis, the hub and the proxy; ${n} users with busybox httpd servers`)
    // SPAWN_BENCH_LOGS=DIR keeps the hub's, the proxy's and the servers' logs (copied to DIR/<label> at the end)
    const keepLogs = process.env.SPAWN_BENCH_LOGS
    if (keepLogs) {
      ctx.cleanups.push(() => {
        rmSync(join(keepLogs, opts.label), { recursive: true, force: true })
        cpSync(dir, join(keepLogs, opts.label), { recursive: true, filter: (src) => !/\/(home|redis)(\/|$)/.test(src) })
      })
    }
    const stack = await startHubStack({
      dir,
      cleanups,
      // e.g. SPAWN_BENCH_HUB_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the hub
      hubNodeArgs: process.env.SPAWN_BENCH_HUB_NODE_ARGS?.split(' ').filter(Boolean),
      overrides: {
        // undefined: the default (JupyterHub's 100)
        ...(opts.limit !== undefined && { hub: { concurrentSpawnLimit: opts.limit } }),
        spawner: {
          'local-process': {
            command: [BUSYBOX, 'httpd'],
            args: ['-f', '-p', '{ip}:{port}', '-h', site],
            userPrefix: accountPrefix,
          },
        },
      },
    })
    const { deps, url } = stack
    const agent = new Agent({ keepAliveTimeout: 30_000, connections: null })
    cleanups.push(() => agent.close())
    const limit = stack.config.hub.concurrentSpawnLimit

    // Users and their API tokens, written the way the hub writes them (untimed).
    const runs: UserRun[] = names.map((name) => ({ name, token: '', throttled: 0 }))
    const warm: UserRun = { name: warmup, token: '', throttled: 0 }
    await inBatches([...runs, warm], 100, async (u) => {
      await deps.users.create(u.name)
      u.token = (await deps.tokens.issue(u.name, { note: 'spawn benchmark' })).token
    })

    /** The status (or a word for a failure without one), and Retry-After's seconds on a 429. */
    const answer = async (
      method: 'POST' | 'DELETE',
      u: UserRun,
    ): Promise<{ status: number | string; retryAfterSec?: number }> => {
      try {
        const res = await request(`${url}/hub/api/users/${u.name}/server`, {
          method,
          headers: { authorization: `token ${u.token}` },
          dispatcher: agent,
          headersTimeout: 120_000,
        })
        await res.body.dump()
        const retryAfter = Number(res.headers['retry-after'])
        return {
          status: res.statusCode,
          ...(res.statusCode === 429 && { retryAfterSec: Number.isFinite(retryAfter) ? retryAfter : NaN }),
        }
      } catch (err) {
        return { status: (err as { code?: string }).code ?? 'network' }
      }
    }
    const call = async (method: 'POST' | 'DELETE', u: UserRun) => (await answer(method, u)).status
    /** POST until accepted; on a 429 (with opts.retry) waits Retry-After (capped at opts.retryCapSec) and asks again. */
    const start = async (u: UserRun): Promise<number | string> => {
      for (;;) {
        const a = await answer('POST', u)
        if (a.status !== 429 || !opts.retry) return a.status
        if (!Number.isFinite(a.retryAfterSec)) throw new Error(`a 429 for ${u.name} without a Retry-After header`)
        u.throttled++
        const waitSec = Math.min(a.retryAfterSec!, opts.retryCapSec ?? Infinity)
        retryWaits.push(a.retryAfterSec!)
        await new Promise((r) => setTimeout(r, waitSec * 1000))
      }
    }
    const retryWaits: number[] = []
    /** Answers of the polls that were neither the user's page nor the redirect to the hub, by status. */
    const oddAnswers = new Map<string, number>()
    /**
     * GET /user/NAME/ through the proxy: true when the user's busybox answers with its page, false
     * when the proxy redirects to /hub/ (no route); anything else is counted in oddAnswers.
     */
    const served = async (u: UserRun): Promise<boolean | undefined> => {
      try {
        const res = await request(`${url}/user/${u.name}/`, {
          headers: { authorization: `token ${u.token}` },
          dispatcher: agent,
        })
        const body = await res.body.text()
        if (res.statusCode === 200 && body === page(u.name)) return true
        if (res.statusCode === 302 && String(res.headers.location ?? '').includes('/hub/')) return false
        oddAnswers.set(String(res.statusCode), (oddAnswers.get(String(res.statusCode)) ?? 0) + 1)
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'network'
        oddAnswers.set(code, (oddAnswers.get(code) ?? 0) + 1)
      }
      return undefined
    }
    /** Polls until served(u) is `want`, from a few ms apart up to MAX_POLL_MS; false on timeout. */
    const until = async (u: UserRun, want: boolean, timeoutMs: number): Promise<boolean> => {
      const deadline = performance.now() + timeoutMs
      for (let wait = FIRST_POLL_MS; ; wait = Math.min(MAX_POLL_MS, wait * 2)) {
        if ((await served(u)) === want) return true
        if (performance.now() > deadline) return false
        await new Promise((r) => setTimeout(r, wait))
      }
    }

    // One spawn and stop first, so the hub's code paths are loaded and compiled before the clock runs.
    ctx.progress('warm-up spawn')
    const warmStatus = await call('POST', warm)
    if (warmStatus !== 201 && warmStatus !== 202) throw new Error(`warm-up spawn answered ${warmStatus}`)
    if (!(await until(warm, true, 30_000)))
      throw new Error(
        `the warm-up server never became reachable through the proxy: ${(await deps.servers.get(warmup, ''))?.message}`,
      )
    const warmStop = await call('DELETE', warm)
    if (warmStop !== 204) throw new Error(`warm-up stop answered ${warmStop}`)

    // The storm.
    const deadlineMs = (ctx.quick ? 60 : p.readyWithinSec * 4) * 1000
    ctx.progress(
      `${opts.label}: ${n} spawn requests at once (hub.concurrentSpawnLimit ${limit}${opts.retry ? ', a 429 is retried after its Retry-After' : ''})`,
    )
    const pids = {
      hub: stack.hubPid,
      launcher: launcherPid(stack.hubPid),
      redis: stack.redisPid,
      proxy: stack.proxy.pid,
    }
    const spawn = new Phase(pids)
    let readyCount = 0
    const ticker = setInterval(
      () => ctx.progress(`${opts.label}: ${readyCount}/${n} ready after ${(spawn.elapsed() / 1000).toFixed(1)} s`),
      2000,
    )
    let peakFds = 0
    const fdSampler = setInterval(() => {
      try {
        peakFds = Math.max(peakFds, readdirSync(`/proc/${stack.hubPid}/fd`).length)
      } catch {
        /* hub gone: reported through the errors */
      }
    }, 250)
    try {
      await Promise.all(
        runs.map(async (u) => {
          u.startStatus = await start(u)
          u.startMs = spawn.elapsed()
          if (u.startStatus !== 201 && u.startStatus !== 202) return
          if (await until(u, true, deadlineMs)) {
            u.readyMs = spawn.elapsed()
            readyCount++
          }
        }),
      )
    } finally {
      clearInterval(ticker)
      clearInterval(fdSampler)
    }
    const spawnMs = spawn.elapsed()
    const spawnCpu = spawn.cpuUsed()
    const ready = runs.filter((u) => u.readyMs !== undefined)
    ctx.progress(`${opts.label}: ${ready.length}/${n} ready and routable in ${(spawnMs / 1000).toFixed(2)} s`)

    // What is running now: the processes, their memory, the hub's.
    for (const u of runs) {
      const rec = await deps.servers.get(u.name, '')
      if (rec?.spawner) u.pid = rec.spawner
    }
    const serverPids = runs.flatMap((u) => (u.pid ? [Number(u.pid.pid)] : []))
    const serverMem = memoryKiB(serverPids)
    const hubMem = memoryKiB([stack.hubPid])
    const routesBefore = Object.keys(await deps.tables.getAll('routes')).length

    // Stop them all at once.
    ctx.progress(`${opts.label}: ${n} stop requests at once`)
    const stop = new Phase(pids)
    await Promise.all(
      runs.map(async (u) => {
        u.stopStatus = await call('DELETE', u)
        u.stopMs = stop.elapsed()
        if (await until(u, false, 30_000)) u.goneMs = stop.elapsed()
      }),
    )
    const stopTotalMs = stop.elapsed()
    const stopCpu = stop.cpuUsed()
    const routesAfter = Object.keys(await deps.tables.getAll('routes')).length
    const leftover = runs.filter((u) => u.pid && alive(u.pid)).length
    ctx.progress(
      `${opts.label}: stopped in ${(stopTotalMs / 1000).toFixed(2)} s; ${routesAfter} routes and ${leftover} server processes left`,
    )
    await stack.stopServers() // anything the stop phase missed

    const startStatuses = countBy(runs.map((u) => u.startStatus))
    const stopStatuses = countBy(runs.map((u) => u.stopStatus))
    const throttled = startStatuses.get('429') ?? 0
    const startErrors = runs.filter((u) => u.startStatus !== 201 && u.startStatus !== 202).length
    const notReady = runs.filter(
      (u) => (u.startStatus === 201 || u.startStatus === 202) && u.readyMs === undefined,
    ).length
    const stopErrors =
      runs.filter((u) => u.stopStatus !== 204).length + runs.filter((u) => u.goneMs === undefined).length
    const readySummary = summary(ready.map((u) => u.readyMs!))
    const startSummary = summary(
      runs.flatMap((u) => (u.startMs !== undefined && typeof u.startStatus === 'number' ? [u.startMs] : [])),
    )
    const goneSummary = summary(runs.flatMap((u) => (u.goneMs !== undefined ? [u.goneMs] : [])))
    const stopReqSummary = summary(runs.flatMap((u) => (u.stopMs !== undefined ? [u.stopMs] : [])))
    const allReadyMs = ready.length === n ? Math.max(...ready.map((u) => u.readyMs!)) : NaN
    const allGoneMs = runs.every((u) => u.goneMs !== undefined) ? Math.max(...runs.map((u) => u.goneMs!)) : NaN

    const retryWait = summary(retryWaits)
    return {
      n,
      limit,
      runs,
      ready,
      spawnMs,
      spawnCpu,
      stopTotalMs,
      stopCpu,
      serverMem,
      hubMem,
      peakFds,
      routesBefore,
      routesAfter,
      leftover,
      startStatuses,
      stopStatuses,
      throttled,
      startErrors,
      notReady,
      stopErrors,
      readySummary,
      startSummary,
      goneSummary,
      stopReqSummary,
      allReadyMs,
      allGoneMs,
      oddAnswers: Object.fromEntries(oddAnswers),
      throttledUsers: runs.filter((u) => u.throttled > 0).length,
      throttledAnswers: runs.reduce((a, u) => a + u.throttled, 0),
      retryAfterSec: {
        min: retryWait.count ? Math.min(...retryWaits) : null,
        max: retryWait.count ? Math.max(...retryWaits) : null,
      },
    }
  } finally {
    await ctx.cleanups.run(stopAll)
  }
}

export const scenario: Scenario = {
  name: 'spawn',
  title: 'Spawn storm: N users start a server at once through the REST API (local-process spawner, busybox httpd)',
  async run(ctx: ScenarioContext) {
    const p = params.spawn
    const names = benchUsers(ctx.quick ? 20 : p.users)
    // The site every busybox serves, where every server can read it: a hub running as root runs each
    // server as its user's own Unix account, which cannot enter the run's directory (0700). Those
    // accounts are the run's own (a prefix of its own) and are removed with it.
    const site = join(mkdtempSync(join(tmpdir(), 'edgehub-bench-site-')), 'site')
    chmodSync(dirname(site), 0o755)
    ctx.cleanups.push(() => rmSync(dirname(site), { recursive: true, force: true }))
    ctx.cleanups.push(() => removeStackAccounts(accountPrefix))
    writeSite(site, [...names, `${params.userPrefix}warmup`])
    // The judged storm: hub.concurrentSpawnLimit raised to N, so that no start is refused (429).
    const a = await storm(ctx, names, site, { label: 'raised-limit', limit: names.length, retry: false })
    // The same storm with the default limit (JupyterHub's 100; quick: 5 of 20 users), every 429
    // retried after its Retry-After (30–60 s; quick: at most 1 s), as a client honouring it would.
    const b = await storm(ctx, names, site, {
      label: 'default-limit',
      limit: ctx.quick ? 5 : undefined,
      retry: true,
      retryCapSec: ctx.quick ? 1 : undefined,
    })
    const {
      n,
      runs,
      ready,
      spawnMs,
      spawnCpu,
      stopTotalMs,
      stopCpu,
      serverMem,
      hubMem,
      peakFds,
      routesBefore,
      routesAfter,
      leftover,
    } = a
    const {
      startStatuses,
      stopStatuses,
      throttled,
      startErrors,
      notReady,
      stopErrors,
      readySummary,
      startSummary,
      goneSummary,
      stopReqSummary,
      allReadyMs,
      allGoneMs,
    } = a
    const s = (ms: number) => (Number.isFinite(ms) ? round(ms / 1000, 2) : 'n/a')
    const tables: Table[] = [
      {
        title: `Spawn storm: ${n} users, ms from the burst (busybox httpd via the local-process spawner)`,
        columns: ['phase', 'count', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'all done, s', 'failed'],
        rows: [
          [
            'start request answered',
            startSummary.count,
            startSummary.p50,
            startSummary.p90,
            startSummary.p99,
            startSummary.max,
            s(startSummary.max),
            startErrors,
          ],
          [
            'ready and routable (busybox answers through the proxy)',
            readySummary.count,
            readySummary.p50,
            readySummary.p90,
            readySummary.p99,
            readySummary.max,
            s(allReadyMs),
            startErrors + notReady,
          ],
          [
            'stop request answered',
            stopReqSummary.count,
            stopReqSummary.p50,
            stopReqSummary.p90,
            stopReqSummary.p99,
            stopReqSummary.max,
            s(stopReqSummary.max),
            runs.filter((u) => u.stopStatus !== 204).length,
          ],
          [
            'route gone (proxy redirects to /hub/)',
            goneSummary.count,
            goneSummary.p50,
            goneSummary.p90,
            goneSummary.p99,
            goneSummary.max,
            s(allGoneMs),
            runs.filter((u) => u.goneMs === undefined).length,
          ],
        ],
      },
      {
        title: `CPU seconds used during each phase (${cpus().length} cores shared by everything)`,
        columns: ['phase', 'wall s', 'hub', 'launcher', 'Redis', 'proxy', 'benchmark client', 'machine busy %'],
        rows: [
          [
            'spawn storm',
            s(spawnMs),
            spawnCpu.hub,
            spawnCpu.launcher,
            spawnCpu.redis,
            spawnCpu.proxy,
            spawnCpu.benchmarkClient,
            spawnCpu.machineBusyPct,
          ],
          [
            'stop storm',
            s(stopTotalMs),
            stopCpu.hub,
            stopCpu.launcher,
            stopCpu.redis,
            stopCpu.proxy,
            stopCpu.benchmarkClient,
            stopCpu.machineBusyPct,
          ],
        ],
      },
      {
        title: 'Answers by status',
        columns: ['request', 'status', 'count'],
        rows: [
          ...[...startStatuses].map(([k, v]) => [`POST /hub/api/users/NAME/server`, k, v]),
          ...[...stopStatuses].map(([k, v]) => [`DELETE /hub/api/users/NAME/server`, k, v]),
          ...Object.entries(a.oddAnswers).map(([k, v]) => [
            'GET /user/NAME/ (poll), neither the page nor the redirect to /hub/',
            k,
            v,
          ]),
        ],
      },
    ]
    const plots: Plot[] = [
      {
        kind: 'line',
        name: 'spawn-storm',
        title: `Spawn storm: servers ready and routable, then gone, of ${n}`,
        xLabel: 's from the burst',
        yLabel: 'servers',
        series: [
          { name: 'ready and routable', points: curve(ready.map((u) => u.readyMs!)) },
          {
            name: 'route gone after the stop burst',
            points: curve(runs.flatMap((u) => (u.goneMs !== undefined ? [u.goneMs] : []))),
          },
        ],
      },
    ]
    const readyMet = ready.length === n && allReadyMs <= p.readyWithinSec * 1000
    const bErrors = b.startErrors + b.notReady
    tables.push({
      title: `The same storm with hub.concurrentSpawnLimit ${b.limit} (${ctx.quick ? 'lowered for the quick run' : 'the default'}): every 429 retried after its Retry-After${ctx.quick ? ' (capped at 1 s in the quick run)' : ''}`,
      columns: ['', 'value'],
      rows: [
        ['users', b.n],
        ['429 answers', b.throttledAnswers],
        ['users refused at least once', b.throttledUsers],
        [
          'Retry-After given, s',
          b.retryAfterSec.min === null ? 'none' : `${b.retryAfterSec.min}–${b.retryAfterSec.max}`,
        ],
        ['start accepted at once (no 429)', b.n - b.throttledUsers],
        ['start request accepted, p50 / max s', `${s(b.startSummary.p50)} / ${s(b.startSummary.max)}`],
        [
          'ready and routable, p50 / p90 / max s',
          `${s(b.readySummary.p50)} / ${s(b.readySummary.p90)} / ${s(b.allReadyMs)}`,
        ],
        ['failed (other than 429) or never ready', bErrors],
      ],
    })
    if (plots[0].kind === 'line')
      plots[0].series.push({
        name: `ready, default limit ${b.limit} with retries`,
        points: curve(b.ready.map((u) => u.readyMs!)),
      })
    return {
      metrics: {
        users: n,
        spawnTotalMs: round(spawnMs),
        allReadyMs: Number.isFinite(allReadyMs) ? round(allReadyMs) : null,
        readyMs: readySummary,
        startRequestMs: startSummary,
        startStatuses: Object.fromEntries(startStatuses),
        throttled,
        notReady,
        concurrentSpawnLimit: a.limit,
        /** Polls answered neither by the user's page nor by the redirect to /hub/, by status. */
        oddPollAnswers: a.oddAnswers,
        defaultLimit: {
          concurrentSpawnLimit: b.limit,
          retryCapSec: ctx.quick ? 1 : null,
          throttledAnswers: b.throttledAnswers,
          throttledUsers: b.throttledUsers,
          retryAfterSec: b.retryAfterSec,
          startStatuses: Object.fromEntries(b.startStatuses),
          startRequestMs: b.startSummary,
          readyMs: b.readySummary,
          allReadyMs: Number.isFinite(b.allReadyMs) ? round(b.allReadyMs) : null,
          errors: bErrors,
          oddPollAnswers: b.oddAnswers,
          routesAfterStop: b.routesAfter,
          serverProcessesLeft: b.leftover,
        },
        stopTotalMs: round(stopTotalMs),
        allGoneMs: Number.isFinite(allGoneMs) ? round(allGoneMs) : null,
        stopRequestMs: stopReqSummary,
        goneMs: goneSummary,
        stopStatuses: Object.fromEntries(stopStatuses),
        cpuSeconds: { spawn: spawnCpu, stop: stopCpu },
        memoryKiB: { servers: serverMem, hub: hubMem },
        hubPeakOpenFiles: peakFds,
        routesBeforeStop: routesBefore,
        routesAfterStop: routesAfter,
        serverProcessesLeft: leftover,
        samples: runs.map((u) => ({
          user: u.name,
          start: u.startStatus,
          startMs: u.startMs && round(u.startMs, 1),
          readyMs: u.readyMs && round(u.readyMs, 1),
          stop: u.stopStatus,
          goneMs: u.goneMs && round(u.goneMs, 1),
        })),
      },
      tables,
      targets: [
        check(
          `all ${n} servers ready and routable after a simultaneous start (concurrentSpawnLimit raised to ${n})`,
          `<= ${p.readyWithinSec} s`,
          Number.isFinite(allReadyMs) ? `${round(allReadyMs / 1000, 2)} s` : `${ready.length}/${n} ready`,
          readyMet,
        ),
        check(
          `spawn storm: failed or throttled starts (concurrentSpawnLimit raised to ${n}, so no 429 is possible)`,
          '0 errors',
          `${startErrors + notReady} errors (${throttled} × 429)`,
          startErrors + notReady === 0,
        ),
        check(
          'stop storm: every route gone and every server process stopped',
          '0 left',
          `${routesAfter} routes, ${leftover} processes left; ${stopErrors} failed stops`,
          routesAfter === 0 && leftover === 0 && stopErrors === 0,
        ),
        reported(
          `spawn storm with concurrentSpawnLimit ${b.limit}${ctx.quick ? '' : ' (the default)'}, 429s retried after Retry-After: all ready after`,
          `${Number.isFinite(b.allReadyMs) ? `${round(b.allReadyMs / 1000, 2)} s` : `${b.ready.length}/${b.n} ready`}; ${b.throttledAnswers} × 429 to ${b.throttledUsers} users`,
        ),
        check(
          `spawn storm with concurrentSpawnLimit ${b.limit}: every server ready, no error other than 429, nothing left after the stop`,
          '0 errors',
          `${bErrors} errors; ${b.routesAfter} routes, ${b.leftover} processes left`,
          bErrors === 0 && b.ready.length === b.n && b.routesAfter === 0 && b.leftover === 0,
        ),
      ],
      plots,
      notes: [
        `Each user's start request carries the user's own API token and goes through the proxy to one hub process. In the judged storm hub.concurrentSpawnLimit is raised to ${n}, the storm's size: "no 429" holds only because of that. With the limit at ${b.limit}${ctx.quick ? '' : ", its default (JupyterHub's)"}, ${b.throttledAnswers} starts were refused with 429 and retried after the Retry-After the hub sent (${b.retryAfterSec.min === null ? 'none sent' : `${b.retryAfterSec.min}–${b.retryAfterSec.max} s`}${ctx.quick ? ', waited at most 1 s in the quick run' : ''}): the last server was ready after ${s(b.allReadyMs)} s. The server is \`busybox httpd -f\` serving /user/NAME/index.html, started by the local-process spawner. A user is ready when GET /user/NAME/ through the proxy with their token returns that page (checked right after the start request answers, then every ${FIRST_POLL_MS} ms doubling up to ${MAX_POLL_MS} ms).`,
        `The stop phase sends every DELETE at once; a DELETE answers once the route is removed and the process has exited. Servers' total memory ${Math.round(serverMem.pss / 1024)} MiB PSS (${Math.round(serverMem.rss / 1024)} MiB RSS); the hub ${Math.round(hubMem.rss / 1024)} MiB RSS, at most ${peakFds} open files during the storm.`,
        "CPU seconds are those each process used during the phase. The launcher is the local-process spawner's helper that forks the servers for the hub (a small process forks much faster than the hub would). The servers themselves, and the kernel's work of forking and starting them, account for most of the rest of the machine's busy time.",
      ],
    }
  },
}
