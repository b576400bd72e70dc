// Route propagation: how long from a write to the proxy tables in Redis (what the hub does when a
// server becomes ready or stops, or a token is revoked) until EVERY proxy serves / refuses.
//
//   npx tsx bench/route-propagation.ts [--changes 1000] [--proxies 2] [--workers 1|auto]
//                                      [--warmup 20] [--out bench/results/route-propagation.json]
//
// Starts a private Redis, M nginx proxies syncing from it and a Node HTTP server as the route target,
// then alternates: (a) add a route for a fresh user (whose token was written beforehand) and poll
// every proxy until it answers 200 from the target; (b) delete that route, or revoke that user's
// token (alternately), and poll until every proxy refuses (302 to the hub, or 401). Each proxy is polled
// back to back over one keep-alive connection; a change's latency is the max over proxies.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { cpus, loadavg, release, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { Client } from 'undici'
import { startRedisServer, type RedisServer } from '../test/support/harness'
import { ProxyTables, tokenDigest } from '../control-plane/src/protocol'
import { freePort } from '../runtime/src/ports'
import { waitFor } from '../runtime/src/wait'
import { startProxy, HEALTH_PATH, type ProxyProcess } from '../proxy/src/nginx-process'

const PREFIX = 'edgehub:'
const GOAL_P99_MS = 10
const CHANGE_TIMEOUT_MS = 5000

const { values: args } = parseArgs({
  options: {
    changes: { type: 'string', default: '1000' },
    proxies: { type: 'string', default: '2' },
    workers: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '20' },
    out: { type: 'string', default: 'bench/results/route-propagation.json' },
  },
})
const changes = Number(args.changes)
const nProxies = Number(args.proxies)
const warmup = Number(args.warmup)
const workers = args.workers === 'auto' ? 'auto' : Number(args.workers)
for (const [name, v, min] of [
  ['changes', changes, 1],
  ['proxies', nProxies, 1],
  ['warmup', warmup, 0],
] as const) {
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name}: expected an integer >= ${min}`)
}
if (workers !== 'auto' && !(Number.isInteger(workers) && workers > 0))
  throw new Error("--workers: expected a number or 'auto'")

// Everything started is stopped by pid (ProxyProcess.stop / RedisServer.stop), also on Ctrl-C.
const dir = mkdtempSync(join(tmpdir(), 'edgehub-bench-'))
const cleanups: (() => unknown)[] = [() => rmSync(dir, { recursive: true, force: true })]
let cleaning: Promise<void> | undefined
const cleanup = () =>
  (cleaning ??= (async () => {
    for (const c of cleanups.reverse())
      await Promise.resolve()
        .then(c)
        .catch((e) => console.error(`cleanup: ${e}`))
  })())
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => void cleanup().then(() => process.exit(130)))
}

type State = 'served' | 'refused'

/**
 * served: a 200 from the target (it sets x-bench-target). refused: the proxy's own answer, a 302 to
 * /hub/user/… when the route is gone, a 401 when the token is unknown; anything else is an error.
 */
function classify(status: number, headers: Record<string, string | string[] | undefined>): State {
  if (status === 200 && headers['x-bench-target'] === '1') return 'served'
  if (status === 302 && String(headers.location ?? '').startsWith('/hub/')) return 'refused'
  if (status === 401 && headers['x-bench-target'] === undefined) return 'refused'
  throw new Error(`unexpected answer from a proxy: ${status} ${headers.location ?? ''}`)
}

const rtts: number[] = [] // every poll's round trip, ms: the measurement's resolution
const acks: number[] = [] // every timed write's Redis round trip, ms

/** Polls one proxy back to back until it reaches `want`; returns ms since t0 at that answer. */
async function until(client: Client, path: string, token: string, want: State, t0: number): Promise<number> {
  for (;;) {
    const sent = performance.now()
    const res = await client.request({ path, method: 'GET', headers: { authorization: `token ${token}` } })
    await res.body.dump()
    const now = performance.now()
    rtts.push(now - sent)
    if (classify(res.statusCode, res.headers) === want) return now - t0
    if (now - t0 > CHANGE_TIMEOUT_MS) throw new Error(`${path} not ${want} after ${CHANGE_TIMEOUT_MS} ms`)
  }
}

const r = (x: number) => Math.round(x * 1000) / 1000 // ms to the microsecond
const round = (xs: number[]) => xs.map(r)

/** Nearest-rank percentiles, in ms. */
function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b)
  const at = (p: number) => r(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)])
  const mean = r(s.reduce((a, b) => a + b, 0) / s.length)
  return { count: s.length, p50: at(50), p90: at(90), p99: at(99), max: at(100), mean }
}

async function main() {
  const loadBefore = loadavg()
  const target = createServer((req, res) => {
    req.resume()
    res.writeHead(200, { 'x-bench-target': '1', 'content-type': 'text/plain' }).end('ok')
  })
  const targetPort = await freePort()
  await new Promise<void>((resolve, reject) => target.once('error', reject).listen(targetPort, '127.0.0.1', resolve))
  cleanups.push(() => new Promise<void>((resolve) => (target.closeAllConnections(), target.close(() => resolve()))))

  const redisPort = await freePort()
  const redis: RedisServer = await startRedisServer({ dir: join(dir, 'redis'), port: redisPort })
  cleanups.push(() => redis.stop())
  const client = new Redis(redis.url, { maxRetriesPerRequest: 3 })
  cleanups.push(() => client.disconnect())
  const tables = new ProxyTables(client, PREFIX)

  const proxies: ProxyProcess[] = []
  for (let i = 0; i < nProxies; i++) {
    const proxy = await startProxy({
      listen: { host: '127.0.0.1', port: await freePort() },
      hubUpstreams: [`127.0.0.1:${targetPort}`], // never reached: only /user/ is requested
      redis: { host: '127.0.0.1', port: redisPort },
      prefix: PREFIX,
      runDir: join(dir, `nginx-${i}`),
      workerProcesses: workers,
      errorLogLevel: 'warn',
    })
    cleanups.push(() => proxy.stop())
    proxies.push(proxy)
  }
  const clients = proxies.map((p) => new Client(p.url, { pipelining: 1, keepAliveTimeout: 60_000 }))
  cleanups.push(() => Promise.all(clients.map((c) => c.destroy())))
  const version = await tables.set('settings', 'admin_access', false)
  for (const p of proxies) {
    await waitFor(`${p.url} synced`, async () => {
      const res = await fetch(p.url + HEALTH_PATH)
      return res.ok && ((await res.json()) as { version: number }).version >= version
    })
  }

  const added: number[] = []
  const routeDeleted: number[] = []
  const tokenRevoked: number[] = []
  const targetAddr = `127.0.0.1:${targetPort}`
  /** Sends the write and starts polling every proxy at once; ms until the last proxy reached `want`. */
  const everyProxy = async (write: () => Promise<unknown>, path: string, token: string, want: State) => {
    const t0 = performance.now()
    const acked = write().then(() => acks.push(performance.now() - t0))
    const [, ...ms] = await Promise.all([acked, ...clients.map((c) => until(c, path, token, want, t0))])
    return Math.max(...ms)
  }
  let name = '',
    prefix = '',
    path = '',
    token = ''
  for (let i = 0; i < warmup + changes; i++) {
    let ms: number, into: number[]
    if (i % 2 === 0) {
      // (a) a fresh user whose token the proxies already have; the hub writes the route once ready
      name = `bench-${i / 2}`
      prefix = `/user/${name}/`
      path = `${prefix}api/status`
      token = `bench-token-${i}-${Math.random().toString(36).slice(2)}`
      await tables.set('tokens', tokenDigest(token), { user: name, expires_at: 0 })
      const route = { kind: 'user', target: targetAddr, user: name, server: '', token: 'x' }
      ms = await everyProxy(() => tables.set('routes', prefix, route), path, token, 'served')
      into = added
    } else if ((i - 1) % 4 === 0) {
      // (b) the server stops: its route is deleted
      ms = await everyProxy(() => tables.del('routes', prefix), path, token, 'refused')
      into = routeDeleted
    } else {
      // (b') the user's token is revoked (the route stays)
      ms = await everyProxy(() => tables.del('tokens', tokenDigest(token)), path, token, 'refused')
      into = tokenRevoked
    }
    if (i >= warmup) into.push(ms)
    if (i >= warmup && (i + 1 - warmup) % 100 === 0) process.stderr.write(`  ${i + 1 - warmup}/${changes} changes\n`)
  }

  const results = {
    added: stats(added),
    removedOrRevoked: stats([...routeDeleted, ...tokenRevoked]),
    routeDeleted: stats(routeDeleted),
    tokenRevoked: stats(tokenRevoked),
  }
  const met = results.added.p99 < GOAL_P99_MS && results.removedOrRevoked.p99 < GOAL_P99_MS
  const rtt = stats(rtts)
  const ack = stats(acks)
  const rows: [string, ReturnType<typeof stats>][] = [
    ['route added → served by all', results.added],
    ['removed / revoked → refused by all', results.removedOrRevoked],
    ['  of which: route deleted', results.routeDeleted],
    ['  of which: token revoked', results.tokenRevoked],
  ]
  const f = (x: number) => x.toFixed(2).padStart(7)
  console.log(
    `\nroute propagation, ${changes} changes, ${nProxies} proxies (worker_processes ${workers}), ms from the Redis write`,
  )
  console.log(`${'change'.padEnd(36)}  count      p50      p90      p99      max`)
  for (const [label, s] of rows)
    console.log(
      `${label.padEnd(36)} ${String(s.count).padStart(6)}  ${f(s.p50)}  ${f(s.p90)}  ${f(s.p99)}  ${f(s.max)}`,
    )
  console.log(
    `poll round trip (resolution): p50 ${rtt.p50.toFixed(3)} ms, p99 ${rtt.p99.toFixed(3)} ms over ${rtt.count} requests`,
  )
  console.log(`write acknowledged by Redis:   p50 ${ack.p50.toFixed(3)} ms, p99 ${ack.p99.toFixed(3)} ms`)
  console.log(`goal p99 < ${GOAL_P99_MS} ms: ${met ? 'met' : 'NOT met'}`)

  const machine = {
    node: process.version,
    nginx: spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim(), // nginx -v prints to stderr
    redis: spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    kernel: release(),
    loadavg1mBefore: loadBefore[0],
    loadavg1mAfter: loadavg()[0],
  }
  const git = (...a: string[]) => spawnSync('git', a, { encoding: 'utf8' }).stdout?.trim()
  const commit = git('rev-parse', '--short', 'HEAD') || null
  const out = {
    benchmark: 'route-propagation',
    date: new Date().toISOString(),
    commit,
    dirty: git('status', '--porcelain', '--', 'proxy', 'control-plane') ? true : commit ? false : null, // measured code
    machine,
    params: { changes, proxies: nProxies, workerProcesses: workers, warmup, changeTimeoutMs: CHANGE_TIMEOUT_MS },
    measures:
      'ms from just before the proxy-table write to Redis until every proxy answers accordingly (max over proxies)',
    goal: { p99BelowMs: GOAL_P99_MS, met },
    results,
    pollRoundTripMs: rtt,
    writeAckMs: ack,
    samplesMs: { added: round(added), routeDeleted: round(routeDeleted), tokenRevoked: round(tokenRevoked) },
  }
  mkdirSync(dirname(args.out!), { recursive: true })
  writeFileSync(args.out!, `${JSON.stringify(out, null, 2)}\n`)
  console.log(`wrote ${args.out}`)
}

main()
  .then(cleanup)
  .catch(async (err) => {
    if (!cleaning) console.error(err instanceof Error ? err.message : err) // else: interrupted
    await cleanup()
    process.exitCode = 1
  })
