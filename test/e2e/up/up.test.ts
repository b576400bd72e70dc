// `edgehub up`, the one-machine stack, as a user runs it: start, use, lose the hub, stop, start again.
import { afterAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stackRedis } from '../../support/redis'
import { BIN } from '../../support/stack'
import { Client, json } from '../../support/client'
import { cleanup, stackEnv } from './support'
import { waitFor } from '../../../runtime/src/wait'

const dir = mkdtempSync(join(tmpdir(), 'edgehub-up-'))
const running: ChildProcess[] = []
afterAll(() => {
  for (const p of running) if (p.exitCode === null) p.kill('SIGKILL')
  if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
  cleanup() // as root, the Unix accounts its hub made, under stackEnv's prefix
})

const children = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}
const cmdline = (pid: number) =>
  existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') : ''
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')

async function up(env: Record<string, string>) {
  const proc = spawn(process.execPath, [BIN, 'up'], {
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_'))), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.push(proc)
  let out = ''
  proc.stdout!.on('data', (d) => (out += d))
  proc.stderr!.on('data', (d) => (out += d))
  await waitFor('edgehub up to print its URL', () => out.includes('Press Ctrl-C to stop.') || proc.exitCode !== null, {
    timeoutMs: 60_000,
  })
  expect(out).toContain('edgehub is running at')
  return { proc, output: () => out }
}

describe('edgehub up', () => {
  it('runs the stack, survives the hub dying, stops cleanly and keeps state across restarts', async () => {
    const env = await stackEnv(dir)
    const [port, redisPort] = [Number(env.EDGEHUB_PORT), Number(env.EDGEHUB_REDIS_PORT)]
    const first = await up(env)
    const url = `http://127.0.0.1:${port}`
    expect(first.output()).toContain(`edgehub is running at ${url}/`)
    const password = first.output().match(/log in as "admin" with password: (\S+)/)?.[1]
    expect(password).toBeTruthy()

    const admin = new Client(url)
    expect((await admin.login('admin', password!)).headers.get('location')).toBe('/hub/')
    expect((await admin.api('POST', '/users/admin/server')).status).toBe(201)
    expect((await admin.get('/user/admin/api/status')).status).toBe(200)
    const redis = stackRedis(dir, redisPort)
    const serverPid = Number(JSON.parse((await redis.hget('edgehub:server:admin/', 'spawner'))!).pid)
    redis.disconnect()
    expect(alive(serverPid)).toBe(true)

    // kill -9 the hub: the supervisor starts another; the server and the login keep working.
    const hubPid = children(first.proc.pid!).find((p) => cmdline(p).includes('edgehub.js hub'))!
    expect(hubPid).toBeGreaterThan(0)
    process.kill(hubPid, 'SIGKILL')
    expect((await admin.get('/user/admin/api/status')).status).toBe(200)
    await waitFor('a new hub process', async () => (await admin.api('GET', '/user')).status === 200, {
      timeoutMs: 20_000,
      intervalMs: 100,
    })
    const newHubPid = children(first.proc.pid!).find((p) => cmdline(p).includes('edgehub.js hub'))
    expect(newHubPid).toBeGreaterThan(0) // a hub child is there, and it is another process
    expect(newHubPid).not.toBe(hubPid)

    // SIGTERM stops everything it started, user servers included.
    const all = [...children(first.proc.pid!), serverPid]
    first.proc.kill('SIGTERM')
    await waitFor('edgehub up to exit', () => first.proc.exitCode !== null, { timeoutMs: 30_000 })
    expect(first.proc.exitCode).toBe(0)
    await waitFor('every process to be gone', () => all.every((p) => !alive(p)), { timeoutMs: 10_000 })

    // Again: users, sessions and tokens are still there; the server is shown as stopped.
    const second = await up(env)
    expect(second.output()).not.toContain('First admin')
    const me = await json(await admin.api('GET', '/user'))
    expect(me.name).toBe('admin')
    expect(me.servers).toEqual({})
    second.proc.kill('SIGTERM')
    await waitFor('edgehub up to exit', () => second.proc.exitCode !== null, { timeoutMs: 30_000 })
  })
})
