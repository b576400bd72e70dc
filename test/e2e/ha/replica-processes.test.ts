// The processes of one replica, as an operator runs them (`edgehub proxy`, `edgehub hub`), killed with
// SIGKILL: the proxy replica keeps exactly one nginx of its own (a killed master is restarted, its
// orphaned workers killed; a killed wrapper's nginx is stopped by the next start), readiness is not
// fooled by another process answering on the port, and a port held by something else stops either
// replica with one line and a non-zero status.
import { spawn, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testRedis } from '../../support/redis'
import { BIN } from '../../support/stack'
import { waitFor } from '../../../runtime/src/wait'
import { probe, startProxy } from '../../../proxy/src/nginx-process'
import { cmdline, masters, replicaConfig, stat, tryKill, workersOf } from './replica-support'

let redis: Awaited<ReturnType<typeof testRedis>>
const dirs: string[] = []
const procs: ChildProcess[] = []

beforeAll(async () => {
  redis = await testRedis()
}, 20_000)

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM')
  await Promise.all(
    procs.map((p) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.once('exit', r)))),
  )
  // nginx a failed case may have left: only the masters of these tests' run dirs, by pid
  for (const dir of dirs) for (const pid of masters(dir)) tryKill(pid)
  await redis?.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
}, 30_000)

interface Replica {
  proc: ChildProcess
  output(): string
  exit: Promise<number | null>
}

function run(args: string[]): Replica {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))
  const proc = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  procs.push(proc)
  let out = ''
  proc.stdout!.on('data', (b) => (out += b))
  proc.stderr!.on('data', (b) => (out += b))
  const exit = new Promise<number | null>((r) => proc.once('exit', (code, sig) => r(code ?? (sig ? 128 : null))))
  return { proc, output: () => out, exit }
}

async function setup() {
  const s = await replicaConfig(redis.url)
  dirs.push(s.dir)
  return s
}

/** A listening socket held by another process (a Python one-liner), until it is killed. */
async function holdPort(port: number): Promise<ChildProcess> {
  const py = spawn(
    'python3',
    [
      '-c',
      `import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(("127.0.0.1",${port}))\ns.listen()\nprint("ok",flush=True)\ntime.sleep(60)`,
    ],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  )
  procs.push(py)
  await new Promise<void>((resolve, reject) => {
    py.stdout!.once('data', () => resolve())
    py.once('exit', () => reject(new Error('the port holder exited')))
  })
  return py
}

const runningLogged = (r: Replica, n: number) => r.output().split('"msg":"proxy running"').length - 1 >= n

describe('edgehub proxy owns its nginx', () => {
  it('after kill -9 of the wrapper, the next start stops the orphaned nginx and runs exactly one', async () => {
    const s = await setup()
    const first = run(['proxy', '--config', s.file])
    await waitFor('the proxy to run', () => runningLogged(first, 1), { timeoutMs: 20_000 })
    const [orphan] = masters(s.dir)
    expect(masters(s.dir)).toHaveLength(1)
    const orphanWorkers = workersOf(orphan)
    expect(orphanWorkers.length).toBe(1)

    first.proc.kill('SIGKILL')
    await first.exit
    // what the issue measured: nginx outlives its wrapper, re-parented and still answering
    expect(await probe(s.health)).toBe(200)
    expect(masters(s.dir)).toEqual([orphan])

    const second = run(['proxy', '--config', s.file])
    await waitFor('the second proxy to run', () => runningLogged(second, 1), { timeoutMs: 20_000 })
    expect(second.output()).toContain(
      `stopped what an earlier edgehub proxy of ${s.dir}/proxy left running: nginx (pid ${orphan})`,
    )
    const now = masters(s.dir)
    expect(now).toHaveLength(1)
    expect(now[0]).not.toBe(orphan)
    expect(Number(stat(now[0])?.[1])).toBe(second.proc.pid) // the new wrapper's child
    expect(
      orphanWorkers.every((w) => stat(w) === undefined || stat(w)![0] === 'Z' || !cmdline(w).startsWith('nginx')),
    ).toBe(true)
    expect(await probe(s.health)).toBe(200)

    // while it runs, a third start with the same run dir is refused and touches nothing
    const third = run(['proxy', '--config', s.file])
    expect(await third.exit).toBe(1)
    expect(third.output().trim().split('\n')).toEqual([
      `edgehub: another edgehub proxy (pid ${second.proc.pid}) runs with the run dir ${s.dir}/proxy (proxy.runDir); stop it, or give this one a run dir of its own`,
    ])
    expect(masters(s.dir)).toEqual(now)

    second.proc.kill('SIGTERM')
    expect(await second.exit).toBe(0)
    expect(masters(s.dir)).toEqual([])
  }, 40_000)

  it('after kill -9 of the nginx master, its workers are killed and nginx is restarted (logged), one master', async () => {
    const s = await setup()
    const r = run(['proxy', '--config', s.file])
    await waitFor('the proxy to run', () => runningLogged(r, 1), { timeoutMs: 20_000 })
    const [master] = masters(s.dir)
    const workers = workersOf(master)
    expect(workers).toHaveLength(1)

    process.kill(master, 'SIGKILL')
    await waitFor(
      'a new nginx master',
      () => masters(s.dir).length === 1 && masters(s.dir)[0] !== master && masters(s.dir),
      { timeoutMs: 10_000 },
    )
    await waitFor('the health URL to answer from it', async () => (await probe(s.health)) === 200, {
      timeoutMs: 10_000,
    })
    expect(masters(s.dir)).toHaveLength(1)
    // the old worker did not survive as an orphan
    expect(workers.every((w) => !cmdline(w).startsWith('nginx') || stat(w)?.[0] === 'Z')).toBe(true)
    expect(r.proc.exitCode).toBeNull()
    const lines = r.output().split('\n')
    expect(lines.some((l) => l.includes('"msg":"nginx exited; restarting"') && l.includes(`"pid":${master}`))).toBe(
      true,
    )
    await waitFor('the restart to be logged', () => r.output().includes('"msg":"nginx restarted"'), {
      timeoutMs: 10_000,
    })

    r.proc.kill('SIGTERM')
    expect(await r.exit).toBe(0)
    expect(masters(s.dir)).toEqual([])
  }, 40_000)

  it('a port held by another process stops the start with one line and exit 1', async () => {
    const s = await setup()
    const holder = await holdPort(s.port)
    const r = run(['proxy', '--config', s.file])
    expect(await r.exit).toBe(1)
    const lines = r.output().trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      new RegExp(
        `^edgehub: port ${s.port} \\(port\\) is in use by pid ${holder.pid} \\(.*python3.*\\); stop that process or choose another port$`,
      ),
    )
    expect(masters(s.dir)).toEqual([])
    holder.kill('SIGKILL')
  }, 20_000)

  it('readiness is not fooled by another process answering the health URL on the port', async () => {
    const s = await setup()
    // something else already answers 200 on the proxy's port and health path
    const impostor: Server = createServer((_req, res) => res.end('ok'))
    await new Promise<void>((r) => impostor.listen(s.port, '127.0.0.1', r))
    try {
      expect(await probe(s.health)).toBe(200)
      // nginx started as `edgehub proxy` starts it for this config, past the CLI's own check of the port
      const redisAt = new URL(redis.url)
      const err = await startProxy({
        listen: { host: '127.0.0.1', port: s.port },
        hubUpstreams: [`127.0.0.1:${s.hubPort}`],
        redis: { host: redisAt.hostname, port: Number(redisAt.port) },
        prefix: 'edgehub:',
        runDir: join(s.dir, 'proxy'),
        workerProcesses: 1,
        ownGroup: true,
        startTimeoutMs: 10_000,
      }).then(
        () => undefined,
        (e: Error) => e,
      )
      // the impostor answers the first probe, before this nginx has failed to bind (and exited)
      expect(err?.message).toMatch(
        new RegExp(`^port ${s.port} is held by another process: pid ${process.pid} \\(.*node`),
      )
      expect(masters(s.dir)).toEqual([])
    } finally {
      await new Promise((r) => impostor.close(r))
    }
  }, 20_000)
})

describe('edgehub hub', () => {
  it('a taken hub.port stops the start with one line naming hub.port and exit 1', async () => {
    const s = await setup()
    const holder = await holdPort(s.hubPort)
    const r = run(['hub', '--config', s.file])
    expect(await r.exit).toBe(1)
    const lines = r.output().trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      new RegExp(
        `^edgehub: port ${s.hubPort} \\(hub\\.port\\) is in use by pid ${holder.pid} .*choose another hub\\.port$`,
      ),
    )
    holder.kill('SIGKILL')
  }, 20_000)
})
