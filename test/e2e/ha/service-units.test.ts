// The replica service units (deploy/systemd/edgehub-hub.service, edgehub-proxy.service) where systemd
// cannot run (it is not PID 1 here): `systemd-analyze verify` checks the files as systemd reads them,
// and a stand-in service manager (test/support/unit-runner.ts) runs their [Service] sections with the
// real replica processes: killing any process of a replica leaves no orphan and no silent exit, and
// the replica recovers, through its own restart of nginx or through the unit's Restart=.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testRedis } from '../../support/redis'
import { ROOT } from '../../support/stack'
import { UnitRunner } from '../../support/unit-runner'
import { waitFor } from '../../../runtime/src/wait'
import { probe } from '../../../proxy/src/nginx-process'
import { cmdline, masters, replicaConfig, stat, tryKill, workersOf, type ReplicaConfig } from './replica-support'

const UNITS = join(ROOT, 'deploy/systemd')
/** Where the units expect the installed program (README, "Installing edgehub as a program"). */
const INSTALLED = '/opt/edgehub'

let redis: Awaited<ReturnType<typeof testRedis>>
const dirs: string[] = []
const runners: UnitRunner[] = []

beforeAll(async () => {
  redis = await testRedis()
}, 20_000)

afterAll(async () => {
  for (const r of runners) await r.stop().catch(() => undefined)
  // nginx a failed case may have left: only the masters of these tests' run dirs, by pid
  for (const dir of dirs) for (const pid of masters(dir)) tryKill(pid)
  await redis?.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
}, 60_000)

function verify(file: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('systemd-analyze', ['verify', file], { encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 127) : 0, output: `${stdout}${stderr}`.trim() }),
    )
  })
}

/** A copy of a unit with one whole line replaced, in a temp dir (the file name is kept). */
function unitCopy(unit: string, from: string, to: string): string {
  const lines = readFileSync(join(UNITS, unit), 'utf8').split('\n')
  expect(lines.filter((l) => l === from)).toHaveLength(1)
  const dir = mkdtempSync(join(tmpdir(), 'edgehub-unit-'))
  dirs.push(dir)
  const file = join(dir, unit)
  writeFileSync(file, lines.map((l) => (l === from ? to : l)).join('\n'))
  return file
}

/** A replica's config (this file's Redis, free ports) and the unit run with it, from the checkout. */
async function unitWith(unitFile: string): Promise<{ s: ReplicaConfig; unit: UnitRunner }> {
  const s = await replicaConfig(redis.url)
  dirs.push(s.dir)
  // the installation's own directory (WorkingDirectory=); the program in it is this checkout
  const installRoot = join(s.dir, 'opt-edgehub')
  mkdirSync(installRoot)
  const unit = new UnitRunner(unitFile, {
    paths: { [`${INSTALLED}/node_modules/edgehub`]: ROOT, [INSTALLED]: installRoot },
    environment: { EDGEHUB_CONFIG: s.file, EDGEHUB_DATA_DIR: s.dir },
  })
  runners.push(unit)
  return { s, unit }
}

const proxyRunning = (unit: UnitRunner, n: number) => unit.journal().split('"msg":"proxy running"').length - 1 >= n
const hubHealthy = async (s: ReplicaConfig) => (await probe(`http://127.0.0.1:${s.hubPort}/hub/health`)) === 200
const gone = (pid: number) => stat(pid) === undefined || stat(pid)![0] === 'Z' || !cmdline(pid).startsWith('nginx')

/** Asserts with the unit's journal in the message, so a failure shows what the replica said. */
function journalOf(unit: UnitRunner) {
  return `\n--- journal of ${unit.spec.name} ---\n${unit.journal()}`
}

describe('systemd-analyze verify', () => {
  it('passes with no output for every unit in deploy/systemd', async () => {
    const units = readdirSync(UNITS).filter((f) => f.endsWith('.service'))
    expect(units).toEqual(expect.arrayContaining(['edgehub-hub.service', 'edgehub-proxy.service', 'edgehub.service']))
    for (const u of units) expect(await verify(join(UNITS, u)), u).toEqual({ code: 0, output: '' })
  }, 30_000)

  it('reports a unit with a deliberate error, so the check above can fail', async () => {
    const file = unitCopy('edgehub-proxy.service', 'KillMode=mixed', 'KillMode=bogus')
    const r = await verify(file)
    expect(r.output).toContain('Failed to parse kill mode specification')
    expect(r.output).toContain('bogus')
  }, 30_000)
})

describe('the stand-in service manager', () => {
  it('refuses a unit using a directive or value it does not implement, naming the line', () => {
    const unknown = unitCopy('edgehub-hub.service', 'KillMode=process', 'KillMode=process\nExecStartPre=/bin/true')
    expect(() => new UnitRunner(unknown)).toThrow(
      /^edgehub-hub\.service:\d+: ExecStartPre= in \[Service\] is not understood by this stand-in$/,
    )
    const bogus = unitCopy('edgehub-hub.service', 'KillMode=process', 'KillMode=bogus')
    expect(() => new UnitRunner(bogus)).toThrow(
      /^edgehub-hub\.service:\d+: KillMode=bogus: KillMode=bogus is not implemented$/,
    )
    // an Environment= the test would replace but the unit no longer sets: the unit changed
    expect(() => new UnitRunner(join(UNITS, 'edgehub-hub.service'), { environment: { EDGEHUB_PORT: '1' } })).toThrow(
      'edgehub-hub.service sets no Environment=EDGEHUB_PORT= to replace',
    )
  })

  it('reads the replica units as written', () => {
    const hub = new UnitRunner(join(UNITS, 'edgehub-hub.service')).spec
    expect(hub).toMatchObject({
      restart: 'on-failure',
      restartMs: 1000,
      killMode: 'process',
      killSignal: 'SIGTERM',
      timeoutStopMs: 45_000,
    })
    expect(hub.execStart).toEqual(['/usr/bin/node', `${INSTALLED}/node_modules/edgehub/bin/edgehub.js`, 'hub'])
    const proxy = new UnitRunner(join(UNITS, 'edgehub-proxy.service')).spec
    expect(proxy).toMatchObject({
      restart: 'on-failure',
      restartMs: 1000,
      killMode: 'mixed',
      killSignal: 'SIGTERM',
      timeoutStopMs: 20_000,
    })
    expect(proxy.execReload).toEqual(['/bin/kill', '-HUP', '$MAINPID'])
  })
})

describe('edgehub-proxy.service', () => {
  const PROXY_UNIT = join(UNITS, 'edgehub-proxy.service')

  it('start: health answers; stop: the replica stops its nginx itself and exits 0, nothing is left', async () => {
    const { s, unit } = await unitWith(PROXY_UNIT)
    await unit.start()
    await waitFor('the proxy to run', () => proxyRunning(unit, 1), { timeoutMs: 30_000 }).catch((e: Error) => {
      throw new Error(e.message + journalOf(unit))
    })
    expect(await probe(s.health)).toBe(200)
    const [master] = masters(s.dir)
    expect(masters(s.dir)).toHaveLength(1)
    expect(Number(stat(master)?.[1])).toBe(unit.mainPid) // nginx is the replica's child
    const workers = workersOf(master)
    expect(workers).toHaveLength(1)
    // LimitNOFILE= reached nginx (capped where this machine's hard limit is lower)
    const limits = readFileSync(`/proc/${workers[0]}/limits`, 'utf8')
    const hard = Math.min(
      65536,
      Number(/Max open files\s+\d+\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))![1]),
    )
    expect(limits).toMatch(new RegExp(`Max open files\\s+${hard}\\s+${hard}`))

    const r = await unit.stop()
    expect(r, journalOf(unit)).toEqual({ code: 0, signal: null, timedOut: false, killedLeftovers: [] })
    expect(unit.state).toBe('inactive') // a clean exit: Restart=on-failure does not start it again
    expect(masters(s.dir)).toEqual([])
    expect([master, ...workers].every(gone)).toBe(true)
    expect(await probe(s.health)).toBe(0)
    expect(unit.starts).toHaveLength(1)
  }, 60_000)

  it('SIGKILL of the replica: the orphaned nginx is killed (KillMode=mixed), the unit restarts after RestartSec, one master serves', async () => {
    const { s, unit } = await unitWith(PROXY_UNIT)
    await unit.start()
    await waitFor('the proxy to run', () => proxyRunning(unit, 1), { timeoutMs: 30_000 })
    const first = unit.mainPid!
    const [orphan] = masters(s.dir)
    const orphanWorkers = workersOf(orphan)

    process.kill(first, 'SIGKILL')
    await waitFor('the restarted proxy to run', () => proxyRunning(unit, 2), { timeoutMs: 30_000 }).catch(
      (e: Error) => {
        throw new Error(e.message + journalOf(unit))
      },
    )
    expect(unit.exits[0]).toMatchObject({ pid: first, code: null, signal: 'SIGKILL', stopping: false })
    // the manager killed what the replica left (its nginx), before the restart
    expect(unit.killedLeftovers[0].map((k) => k.pid).sort()).toEqual([orphan, ...orphanWorkers].sort())
    expect(unit.starts).toHaveLength(2)
    expect(unit.starts[1] - unit.exits[0].at).toBeGreaterThanOrEqual(1000) // RestartSec=1
    const now = masters(s.dir)
    expect(now).toHaveLength(1)
    expect(now[0]).not.toBe(orphan)
    expect(Number(stat(now[0])?.[1])).toBe(unit.mainPid)
    expect([orphan, ...orphanWorkers].every(gone)).toBe(true)
    expect(await probe(s.health)).toBe(200)

    expect((await unit.stop())?.code).toBe(0)
    expect(masters(s.dir)).toEqual([])
  }, 60_000)

  it('SIGKILL of the replica under KillMode=process: the orphaned nginx outlives it and the restarted replica stops it, one master', async () => {
    // what the proxy itself does when no manager cleans up (a unit copied with KillMode=process)
    const { s, unit } = await unitWith(unitCopy('edgehub-proxy.service', 'KillMode=mixed', 'KillMode=process'))
    await unit.start()
    await waitFor('the proxy to run', () => proxyRunning(unit, 1), { timeoutMs: 30_000 })
    const [orphan] = masters(s.dir)

    process.kill(unit.mainPid!, 'SIGKILL')
    await waitFor('the restarted proxy to run', () => proxyRunning(unit, 2), { timeoutMs: 30_000 }).catch(
      (e: Error) => {
        throw new Error(e.message + journalOf(unit))
      },
    )
    expect(unit.killedLeftovers[0]).toEqual([])
    expect(unit.journal()).toContain(
      `stopped what an earlier edgehub proxy of ${s.dir}/proxy left running: nginx (pid ${orphan})`,
    )
    const now = masters(s.dir)
    expect(now).toHaveLength(1)
    expect(now[0]).not.toBe(orphan)
    expect(Number(stat(now[0])?.[1])).toBe(unit.mainPid)
    expect(await probe(s.health)).toBe(200)

    expect((await unit.stop())?.code).toBe(0)
    expect(masters(s.dir)).toEqual([])
  }, 60_000)

  it('SIGKILL of the nginx master: the replica restarts nginx itself (no unit restart), one master', async () => {
    const { s, unit } = await unitWith(PROXY_UNIT)
    await unit.start()
    await waitFor('the proxy to run', () => proxyRunning(unit, 1), { timeoutMs: 30_000 })
    const main = unit.mainPid!
    const [master] = masters(s.dir)
    const workers = workersOf(master)

    process.kill(master, 'SIGKILL')
    const now = await waitFor(
      'a new nginx master',
      () => {
        const m = masters(s.dir)
        return m.length === 1 && m[0] !== master && m
      },
      { timeoutMs: 15_000 },
    ).catch((e: Error) => {
      throw new Error(e.message + journalOf(unit))
    })
    await waitFor('the health URL to answer from it', async () => (await probe(s.health)) === 200, {
      timeoutMs: 15_000,
    })
    expect(Number(stat(now[0])?.[1])).toBe(main)
    expect(masters(s.dir)).toHaveLength(1)
    expect(workers.every(gone)).toBe(true)
    expect(unit.mainPid).toBe(main)
    expect(unit.starts).toHaveLength(1)
    expect(unit.exits).toEqual([])
    expect(unit.state).toBe('active')

    expect((await unit.stop())?.code).toBe(0)
    expect(masters(s.dir)).toEqual([])
  }, 60_000)

  it('reload (ExecReload=, kill -HUP $MAINPID): new workers under the same master, every request during it answered', async () => {
    const { s, unit } = await unitWith(PROXY_UNIT)
    await unit.start()
    await waitFor('the proxy to run', () => proxyRunning(unit, 1), { timeoutMs: 30_000 })
    const main = unit.mainPid!
    const [master] = masters(s.dir)
    const before = workersOf(master)

    // requests on fresh connections, one after another, from before the reload until it is done
    const statuses: number[] = []
    let probing = true
    const prober = (async () => {
      while (probing) statuses.push(await probe(s.health, 2000))
    })()
    await waitFor('requests before the reload', () => statuses.length >= 3, { timeoutMs: 5000 })
    expect(await unit.reload()).toBe(0)
    await waitFor(
      'new nginx workers',
      () => {
        const w = workersOf(master)
        return w.length === 1 && !before.includes(w[0])
      },
      { timeoutMs: 15_000 },
    ).catch((e: Error) => {
      throw new Error(e.message + journalOf(unit))
    })
    const atNewWorkers = statuses.length
    await waitFor('requests after the reload', () => statuses.length >= atNewWorkers + 3, { timeoutMs: 5000 })
    probing = false
    await prober

    expect(statuses.filter((c) => c !== 200)).toEqual([])
    expect(masters(s.dir)).toEqual([master])
    expect(unit.mainPid).toBe(main)
    expect(unit.starts).toHaveLength(1)
    await waitFor('the old workers to finish and exit', () => before.every(gone), { timeoutMs: 15_000 })

    expect((await unit.stop())?.code).toBe(0)
  }, 60_000)
})

describe('edgehub-hub.service', () => {
  it('SIGKILL of the hub: restarted after RestartSec, /hub/health answers again; stop: exit 0', async () => {
    const { s, unit } = await unitWith(join(UNITS, 'edgehub-hub.service'))
    await unit.start()
    await waitFor('the hub to answer', () => hubHealthy(s), { timeoutMs: 30_000 }).catch((e: Error) => {
      throw new Error(e.message + journalOf(unit))
    })
    const first = unit.mainPid!

    process.kill(first, 'SIGKILL')
    await waitFor('the hub to be restarted', () => unit.starts.length === 2 && unit.state === 'active', {
      timeoutMs: 10_000,
    })
    expect(unit.exits[0]).toMatchObject({ pid: first, signal: 'SIGKILL', stopping: false })
    expect(unit.starts[1] - unit.exits[0].at).toBeGreaterThanOrEqual(1000) // RestartSec=1
    expect(unit.mainPid).not.toBe(first)
    await waitFor('the restarted hub to answer', () => hubHealthy(s), { timeoutMs: 30_000 }).catch((e: Error) => {
      throw new Error(e.message + journalOf(unit))
    })

    const r = await unit.stop()
    expect(r, journalOf(unit)).toMatchObject({ code: 0, signal: null, timedOut: false })
    expect(unit.state).toBe('inactive')
    expect(unit.starts).toHaveLength(2)
    expect(await probe(`http://127.0.0.1:${s.hubPort}/hub/health`)).toBe(0)
  }, 90_000)
})
