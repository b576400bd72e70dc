// Instructions per proxied request, counted by valgrind's callgrind: plain nginx (the http scenario's
// baseline), the edge proxy with a session cookie and with an API token, and the edge proxy reduced
// to its Lua phases (an access handler that only picks a fixed route, no log phase).
//
//   npm run bench:instructions [-- --seconds 8] [--out FILE.json]
//
// Throughput on a shared two-core VM moves by 10–15% between runs of the same code; instruction
// counts do not (the same binary and requests count the same whatever else the machine does), so
// they show where the edge proxy's extra cost per request lies, and whether a change to the request
// path made it cheaper. User space only: the kernel's part (the same syscalls for every system) is
// not counted. Each system runs as one nginx process (master_process off, one worker) under
// callgrind, fed by wrk (4 connections) with the http scenario's requests; counters are zeroed after
// a warm-up, so start-up and warm-up are not counted.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { freePort } from '../runtime/src/ports'
import { waitFor } from '../runtime/src/wait'
import { probe } from '../proxy/src/nginx-process'
import { Cleanups } from './lib/cleanup'
import { seedUsers, startEdgeProxy, startEdgeRedis } from './lib/edge'
import { benchUsers, params } from './lib/params'
import { startBaselineNginx } from './lib/systems'
import { startUpstream } from './lib/upstream'
import { runWrk, wrkErrors, type WrkRequest } from './lib/wrk'
import { cookieRequests, plainRequests, tokenRequests } from './scenarios/http'

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, out: { type: 'string' } } })
const SECONDS = Number(args.seconds)
const WARMUP_SECONDS = 4

const ACCESS_BLOCK = /access_by_lua_block \{\s*require\("edgehub\.access"\)\.run\(\)\s*\}/g
const LOG_BLOCK = /log_by_lua_block \{\s*require\("edgehub\.activity"\)\.log\(\)\s*\}/g

/** The edge proxy's config with the access handler replaced by one that only picks the upstream. */
function luaPhasesOnly(conf: string, upstreamPort: number): string {
  if (!conf.match(ACCESS_BLOCK) || !conf.match(LOG_BLOCK))
    throw new Error('nginx.conf: no access_by_lua / log_by_lua block of the expected form')
  return conf
    .replace(LOG_BLOCK, '')
    .replace(
      ACCESS_BLOCK,
      `access_by_lua_block { ngx.ctx.edgehub_route = { host = "127.0.0.1", port = ${upstreamPort} } }`,
    )
}

/** One process, one worker, on port. */
function singleProcess(conf: string, port: number): string {
  return conf
    .replace(/worker_processes \S+;/, 'worker_processes 1;\nmaster_process off;')
    .replace(/listen [^;]+;/, `listen 127.0.0.1:${port};`)
}

/** Instructions per request of nginx running conf (prefix dir runDir) under callgrind. */
async function count(
  name: string,
  conf: string,
  runDir: string,
  requests: WrkRequest[],
  work: string,
  cleanups: Cleanups,
) {
  const port = await freePort()
  const dir = join(work, name.replace(/\W+/g, '-'))
  mkdirSync(dir, { recursive: true })
  const confPath = join(dir, 'nginx.conf')
  writeFileSync(confPath, singleProcess(conf, port))
  const proc = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${join(dir, 'callgrind.out')}`,
      'nginx',
      '-p',
      runDir,
      '-c',
      confPath,
      '-g',
      'daemon off;',
    ],
    { stdio: 'ignore' },
  )
  const stop = cleanups.push(async () => {
    if (proc.exitCode !== null) return
    proc.kill('SIGKILL')
    await new Promise((res) => proc.once('exit', res))
  })
  const url = `http://127.0.0.1:${port}`
  await waitFor(
    `${name} under callgrind to answer`,
    async () => {
      if (proc.exitCode !== null) throw new Error(`${name}: valgrind exited with ${proc.exitCode}`)
      return (await probe(`${url}/`)) > 0
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  )
  await runWrk({ url, requests, connections: 4, durationSec: WARMUP_SECONDS, dir })
  execFileSync('callgrind_control', ['-z', String(proc.pid)], { stdio: 'ignore' })
  const r = await runWrk({ url, requests, connections: 4, durationSec: SECONDS, dir })
  execFileSync('callgrind_control', ['-d', String(proc.pid)], { stdio: 'ignore' })
  await cleanups.run(stop)
  if (wrkErrors(r) > 0) throw new Error(`${name}: wrk saw errors ${JSON.stringify(r.errors)}`)
  const dump = readdirSync(dir)
    .filter((f) => f.startsWith('callgrind.out.'))
    .sort()
    .at(-1)
  const total = dump && /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, dump), 'utf8'))?.[1]
  if (!total) throw new Error(`${name}: no callgrind totals in ${dir}`)
  return { system: name, requests: r.requests, instructionsPerRequest: Math.round(Number(total) / r.requests) }
}

async function main() {
  for (const tool of ['valgrind', 'callgrind_control', 'wrk']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      throw new Error(`${tool} is not installed (scripts/install-deps.sh --bench installs valgrind and wrk)`)
  }
  const cleanups = new Cleanups()
  process.once('SIGINT', () => void cleanups.runAll().then(() => process.exit(130)))
  const work = mkdtempSync(join(tmpdir(), 'edgehub-instructions-'))
  try {
    const upstream = await startUpstream(join(work, 'upstream'))
    cleanups.push(() => upstream.stop())
    const baseline = await startBaselineNginx({
      runDir: join(work, 'nginx'),
      upstreamPort: upstream.port,
      workers: 1,
      cleanups,
    })
    const edgeRedis = await startEdgeRedis(work, cleanups)
    const users = await seedUsers(edgeRedis, benchUsers(params.http.users), upstream.port)
    const edge = await startEdgeProxy(edgeRedis, { runDir: join(work, 'edge'), workers: 1, cleanups })
    // the configs as rendered for the throughput runs; the processes themselves are not needed
    const nginxConf = readFileSync(join(work, 'nginx', 'nginx.conf'), 'utf8')
    const edgeConf = readFileSync(edge.proxy.confPath, 'utf8')
    await cleanups.run(() => baseline.stop())
    await edge.proxy.stop()

    const path = params.http.path
    const systems: Array<[string, string, string, WrkRequest[]]> = [
      ['nginx', nginxConf, join(work, 'nginx'), plainRequests(users, path)],
      ['edgehub (cookie)', edgeConf, join(work, 'edge'), cookieRequests(users, path)],
      ['edgehub (token)', edgeConf, join(work, 'edge'), tokenRequests(users, path)],
      [
        'edgehub, Lua phases only',
        luaPhasesOnly(edgeConf, upstream.port),
        join(work, 'edge'),
        plainRequests(users, path),
      ],
    ]
    const rows = []
    for (const [name, conf, runDir, requests] of systems) {
      console.error(`${name}: ${WARMUP_SECONDS} s warm-up, ${SECONDS} s counted`)
      rows.push(await count(name, conf, runDir, requests, work, cleanups))
    }
    const base = rows[0].instructionsPerRequest
    console.log('| system | requests counted | instructions/request | × nginx |\n| --- | ---: | ---: | ---: |')
    for (const r of rows)
      console.log(
        `| ${r.system} | ${r.requests} | ${r.instructionsPerRequest} | ${(r.instructionsPerRequest / base).toFixed(2)} |`,
      )
    if (args.out)
      writeFileSync(
        args.out,
        `${JSON.stringify({ date: new Date().toISOString(), seconds: SECONDS, users: users.length, rows }, null, 2)}\n`,
      )
  } finally {
    await cleanups.runAll()
    rmSync(work, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
})
