// `edgehub up` and who users' servers run as. As root (the README's `npm start`): the data directory is
// closed to others (0700) and the first admin's server runs as a Unix account of its own made on the
// spot, not as root. Unprivileged: the stack says, on its terminal and on the admin page, that every
// server runs as the hub's user, a single trust domain.
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { chmodSync, chownSync, readFileSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { alive, cleanup, dataDir, loginAdmin, partPid, stackEnv, up, withEnv, BIN, ROOT, type Up } from '../up/support'
import type { Client } from '../../support/client'
import { waitFor } from '../../../runtime/src/wait'
import { accountExists, isRoot, passwd, removeAccounts, testPrefix } from '../../support/accounts'

const prefix = testPrefix()
const NOTE = 'this is a single trust domain'
const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1])

/**
 * Lets other users pass through every directory above `dir` (o+x, as an installed program's path
 * allows): a checkout cloned under a 0700 directory (mktemp -d) cannot be run by nobody otherwise.
 * Returns what to put back.
 */
function traversableByOthers(dir: string): Array<[string, number]> {
  const changed: Array<[string, number]> = []
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    const mode = statSync(d).mode & 0o7777
    if (!(mode & 0o001)) {
      chmodSync(d, mode | 0o001)
      changed.push([d, mode])
    }
  }
  return changed
}

/** Starts admin's default server through the API; its pid (the process carrying this stack's API URL) once it answers through the proxy. */
async function startServer(u: Up, admin: Client): Promise<number> {
  const res = await admin.api('POST', '/users/admin/server')
  expect([201, 202]).toContain(res.status)
  await waitFor(
    'the server to answer through the proxy',
    async () => (await admin.get('/user/admin/api/status')).status === 200,
    { timeoutMs: 30_000, intervalMs: 100 },
  )
  const pids = withEnv('JUPYTERHUB_API_URL', `${u.url}/hub/api`)
  expect(pids).toHaveLength(1)
  return pids[0]
}

/** Stops the supervisor with SIGTERM (it stops the servers, the hub, the proxy and Redis) and waits for it. */
async function stop(u: Up): Promise<void> {
  u.proc.kill('SIGTERM')
  await u.exit
}

afterEach(() => cleanup())
afterAll(() => {
  if (isRoot) expect(removeAccounts(prefix)).toEqual([])
})

describe.runIf(isRoot)('edgehub up and whom servers run as', () => {
  it("as root: closes the data directory (0700) and runs the first admin's server as a new account of its own, not as root", async () => {
    const dir = dataDir()
    chmodSync(dir, 0o755)
    const u = await up(await stackEnv(dir, { EDGEHUB_SPAWNER_LOCAL_PROCESS_USER_PREFIX: prefix }))
    try {
      expect(statSync(dir).mode & 0o777).toBe(0o700)
      expect(u.output()).not.toContain(NOTE)
      expect(u.output()).toContain(`as Unix accounts ${prefix}NAME`)
      expect(accountExists(`${prefix}admin`)).toBe(false)
      const pid = await startServer(u, await loginAdmin(u))
      const account = passwd(`${prefix}admin`)
      expect(uidOf(pid)).toBe(account.uid)
      expect(account.uid).not.toBe(0)
    } finally {
      await stop(u)
    }
    // the supervisor's shutdown stopped the server of another uid too
    expect(withEnv('JUPYTERHUB_API_URL', `${u.url}/hub/api`)).toEqual([])
  }, 120_000)

  it('as root, with Redis not answering: the shutdown finds the server of another uid by its process mark and stops it', async () => {
    const u = await up(await stackEnv(dataDir(), { EDGEHUB_SPAWNER_LOCAL_PROCESS_USER_PREFIX: prefix }))
    const pid = await startServer(u, await loginAdmin(u))
    expect(uidOf(pid)).toBe(passwd(`${prefix}admin`).uid)
    const redisPid = partPid(u.proc.pid!, 'redis-server')!
    process.kill(redisPid, 'SIGSTOP') // no records to read: only list() can find the server
    try {
      u.proc.kill('SIGTERM')
      expect(await u.exit).toBe(0)
      expect(u.output()).toContain('Redis does not answer')
      await waitFor('the server to be stopped', () => !alive(pid), { timeoutMs: 10_000 })
    } finally {
      if (alive(redisPid)) process.kill(redisPid, 'SIGCONT')
    }
  }, 120_000)

  it("unprivileged: says on its terminal and on the admin page that servers share the hub's user, a single trust domain", async () => {
    const dir = dataDir()
    const nobody = passwd('nobody')
    chownSync(dir, nobody.uid, nobody.gid)
    const env = await stackEnv(dir)
    const changed = traversableByOthers(ROOT)
    // `up` of the support helpers, as the unprivileged user nobody
    const proc = spawn(process.execPath, [BIN, 'up'], {
      env: { PATH: process.env.PATH!, HOME: dir, LANG: 'C.UTF-8', ...env },
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: nobody.uid,
      gid: nobody.gid,
    })
    let out = ''
    proc.stdout.on('data', (d) => (out += d))
    proc.stderr.on('data', (d) => (out += d))
    const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
    const u: Up = {
      proc,
      dir,
      env,
      port: Number(env.EDGEHUB_PORT),
      hubPort: Number(env.EDGEHUB_HUB_PORT),
      redisPort: Number(env.EDGEHUB_REDIS_PORT),
      url: `http://127.0.0.1:${env.EDGEHUB_PORT}`,
      output: () => out,
      exit,
    }
    try {
      await waitFor(
        'edgehub up to print its URL or exit',
        () => out.includes('Press Ctrl-C to stop') || proc.exitCode !== null,
        { timeoutMs: 60_000 },
      )
      const notes = out.split('\n').filter((l) => l.includes(NOTE))
      expect(notes, out).toHaveLength(1)
      expect(notes[0]).toMatch(/run the hub as root/)
      expect(notes[0]).toMatch(/sudo/)
      const admin = await loginAdmin(u)
      const page = await (await admin.get('/hub/admin')).text()
      expect(page).toContain('id="single-trust-domain"')
      expect(page).toContain(NOTE)
      // and it is true: the server runs as the hub's user
      expect(uidOf(await startServer(u, admin))).toBe(nobody.uid)
    } finally {
      proc.kill('SIGTERM')
      await exit
      for (const [d, mode] of changed) chmodSync(d, mode)
    }
  }, 120_000)
})
