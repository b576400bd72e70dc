// Helpers for the tests of `edgehub up`: start the real supervisor on free ports in a temp data
// directory, find its processes in /proc, log in, start a server, and keep a steady request stream.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { probe } from '../../../proxy/src/nginx-process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'vitest'
import { BIN, ROOT } from '../../support/stack'
import { Client } from '../../support/client'
import { stackRedis } from '../../support/redis'
import { removeStackAccounts, testPrefix } from '../../support/accounts'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'

export { BIN, ROOT }

/** Pid -> [state, ppid, pgrp, session] of every process, from /proc. */
export function processTable(): Map<number, { state: string; ppid: number; pgrp: number; sid: number }> {
  const out = new Map<number, { state: string; ppid: number; pgrp: number; sid: number }>()
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(Number(e), { state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), sid: Number(f[3]) })
    } catch {
      /* gone */
    }
  }
  return out
}

/** Live (not zombie) process? */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** Every live descendant of pid. */
export function descendants(pid: number): number[] {
  const table = processTable()
  const out: number[] = []
  const walk = (p: number) => {
    for (const [c, s] of table) if (s.ppid === p && s.state !== 'Z') (out.push(c), walk(c))
  }
  walk(pid)
  return out
}

export const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()
  } catch {
    return ''
  }
}

/** Live processes whose environment holds NAME=value (our own processes are readable). */
export function withEnv(name: string, value: string): number[] {
  const out: number[] = []
  for (const pid of processTable().keys()) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`${name}=${value}`) && alive(pid))
        out.push(pid)
    } catch {
      /* another user's, or gone */
    }
  }
  return out
}

/** The child of the supervisor whose command line contains what (hub: 'edgehub.js hub'). */
export function partPid(supervisor: number, what: string): number | undefined {
  return descendants(supervisor).find((p) => processTable().get(p)?.ppid === supervisor && cmdline(p).includes(what))
}

export interface Up {
  proc: ChildProcess
  dir: string
  env: Record<string, string>
  port: number
  hubPort: number
  redisPort: number
  url: string
  output(): string
  /** Resolves with the exit code once the supervisor exits. */
  exit: Promise<number | null>
}

const cleanEnv = () =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_'))) as Record<string, string>

/** Every process started through these helpers, killed by pid (and group) when a test is done. */
const started: ChildProcess[] = []
const dirs: string[] = []
const prefixes: string[] = []
const accountPrefix = () => {
  const prefix = testPrefix()
  prefixes.push(prefix)
  return prefix
}

export function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgehub-up-'))
  dirs.push(dir)
  return dir
}

export async function stackEnv(dir: string, extra: Record<string, string> = {}) {
  const [port, hubPort, redisPort] = await Promise.all([freePort(), freePort(), freePort()])
  return {
    EDGEHUB_DATA_DIR: dir,
    EDGEHUB_PORT: String(port),
    EDGEHUB_HUB_PORT: String(hubPort),
    EDGEHUB_REDIS_PORT: String(redisPort),
    EDGEHUB_PROXY_WORKERS: '1',
    EDGEHUB_AUTH_NATIVE_SCRYPT_COST: '1024',
    EDGEHUB_HUB_POLL_INTERVAL_SEC: '1',
    // a hub running as root makes a Unix account per user: this stack's own, removed by cleanup()
    EDGEHUB_SPAWNER_LOCAL_PROCESS_USER_PREFIX: accountPrefix(),
    ...extra,
  }
}

/**
 * Runs `edgehub up` (or `npm start` with npm: true) with env; resolves once it printed its URL (or
 * exited, when expectExit). `detached` makes it lead a process group, as a shell's job does.
 */
export async function up(
  env: Record<string, string>,
  opts: { npm?: boolean; detached?: boolean; expectExit?: boolean } = {},
): Promise<Up> {
  const spawnOpts: SpawnOptions = {
    env: { ...cleanEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached,
    cwd: ROOT,
  }
  const proc = opts.npm ? spawn('npm', ['start'], spawnOpts) : spawn(process.execPath, [BIN, 'up'], spawnOpts)
  started.push(proc)
  let out = ''
  proc.stdout!.on('data', (d) => (out += d))
  proc.stderr!.on('data', (d) => (out += d))
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  await waitFor(
    'edgehub up to print its URL or exit',
    () => out.includes('Press Ctrl-C to stop') || proc.exitCode !== null,
    { timeoutMs: 60_000 },
  )
  if (!opts.expectExit) expect(out, out).toContain('edgehub is running at')
  const port = Number(env.EDGEHUB_PORT)
  return {
    proc,
    dir: env.EDGEHUB_DATA_DIR,
    env,
    port,
    hubPort: Number(env.EDGEHUB_HUB_PORT),
    redisPort: Number(env.EDGEHUB_REDIS_PORT),
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    exit,
  }
}

/** Test teardown: SIGKILL to whatever the helpers started and is still alive (and its groups). */
export function cleanup(): void {
  for (const p of started) {
    if (p.pid === undefined) continue
    const tree = [p.pid, ...descendants(p.pid)]
    for (const pid of tree) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL')
        } catch {
          /* gone, or not a group */
        }
      }
    }
  }
  started.length = 0
  for (const prefix of prefixes.splice(0)) removeStackAccounts(prefix)
  if (!process.env.KEEP_TEST_DIRS) for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

/** Logs in as the first admin with the password the supervisor printed. */
export async function loginAdmin(u: Up): Promise<Client> {
  const password = u.output().match(/log in as "admin" with password: (\S+)/)?.[1]
  expect(password).toBeTruthy()
  const admin = new Client(u.url)
  expect((await admin.login('admin', password!)).headers.get('location')).toBe('/hub/')
  return admin
}

/** Starts admin's default server through the API; resolves with its pid once it answers through the proxy. */
export async function startServer(u: Up, admin: Client): Promise<number> {
  const res = await admin.api('POST', '/users/admin/server')
  expect([201, 202]).toContain(res.status)
  await waitFor(
    'the server to answer through the proxy',
    async () => (await admin.get('/user/admin/api/status')).status === 200,
    { timeoutMs: 30_000, intervalMs: 100 },
  )
  return serverPid(u)
}

export async function serverPid(u: Up): Promise<number> {
  const redis = stackRedis(u.dir, u.redisPort)
  try {
    return Number(JSON.parse((await redis.hget('edgehub:server:admin/', 'spawner'))!).pid)
  } finally {
    redis.disconnect()
  }
}

/** Status of one request on a fresh connection, 0 when none came (refused, reset, timeout). */
export const status = (url: string, headers: Record<string, string> = {}, timeoutMs = 5000): Promise<number> =>
  probe(url, timeoutMs, headers)

export interface Sample {
  at: number
  status: number
  ms: number
}

/** A steady stream of requests (one at a time, one every intervalMs at most) until stop(). */
export function stream(url: string, headers: Record<string, string>, intervalMs = 20) {
  const samples: Sample[] = []
  let running = true
  const done = (async () => {
    while (running) {
      const at = Date.now()
      const s = await status(url, headers)
      samples.push({ at, status: s, ms: Date.now() - at })
      const rest = intervalMs - (Date.now() - at)
      if (rest > 0) await new Promise((r) => setTimeout(r, rest))
    }
  })()
  return {
    samples,
    /** Samples started in [from, to). */
    between: (from: number, to: number) => samples.filter((s) => s.at >= from && s.at < to),
    async stop() {
      running = false
      await done
    },
  }
}
