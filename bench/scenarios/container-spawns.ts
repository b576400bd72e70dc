// Scenario: container spawns. N servers are asked for at the same moment through the docker spawner,
// on a real engine started for the run (test/support/docker-engine.ts: dockerd with vfs storage, host
// networking, the test image with the host's /usr mounted read-only) with busybox httpd as the
// server (a light image: no Python to load), and timed until each answers HTTP at the address poll
// gives; then all are stopped at once. The same N servers through the local-process spawner follow,
// as the baseline. The spawners are driven directly, as the hub drives them (start, poll, stop), so
// the figures are the spawners' own: the hub's part of a spawn is the spawn scenario's.
// CONTAINER_SPAWNS_N sets N (default 100, at most 1,000; 10 with --quick).
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { SPAWNERS, type Spawner, type SpawnerState, type SpawnRequest } from '../../spawners/src'
import { waitFor } from '../../runtime/src/wait'
import { startEngine, stopEngine, TEST_IMAGE_VOLUMES } from '../../test/support/docker-engine'
import { isRoot, removeAccounts, testPrefix } from '../../test/support/accounts'
import { round, summary } from '../lib/stats'
import type { Scenario, ScenarioContext, Table } from '../lib/types'
import { check, reported } from '../lib/verdict'

const BUSYBOX = '/usr/bin/busybox'
const HTTPD = ['httpd', '-f', '-p', '{ip}:{port}', '-h', '/usr/share/doc']
const quiet = { info() {}, warn() {} }

function spawnCount(quick: boolean): number {
  const n = Number(process.env.CONTAINER_SPAWNS_N ?? (quick ? 10 : 100))
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error('CONTAINER_SPAWNS_N: expected 1-1000')
  return n
}

interface Storm {
  /** Start and readiness of each server, in ms from the burst. */
  startedMs: number[]
  readyMs: number[]
  failures: string[]
  /** From the burst until every server answered; from the stop burst until every stop returned. */
  allReadyMs: number
  allStoppedMs: number
}

/** Whether anything answers HTTP at url (a 404 of the server counts: it is up). */
async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) })
    await res.body?.cancel()
    return true
  } catch {
    return false
  }
}

/** N starts at once, each timed until its server answers; then N stops at once. */
async function storm(spawner: Spawner, n: number, hubId: string, prefix: string): Promise<Storm> {
  const request = (i: number): SpawnRequest => {
    const user = `${prefix}${i}`
    const baseUrl = `/user/${user}/`
    return {
      user,
      server: '',
      baseUrl,
      env: { JUPYTERHUB_USER: user, JUPYTERHUB_SERVER_NAME: '', JUPYTERHUB_API_TOKEN: 'bench', EDGEHUB_HUB_ID: hubId },
      options: {},
      logFile: '/dev/null',
      progress() {},
    }
  }
  const states: SpawnerState[] = []
  const startedMs: number[] = []
  const readyMs: number[] = []
  const failures: string[] = []
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      try {
        const state = await spawner.start(request(i), AbortSignal.timeout(300_000))
        states.push(state)
        startedMs.push(performance.now() - t0)
        await waitFor(
          'the server to answer',
          async () => {
            const s = await spawner.poll(state)
            return s.phase === 'running' && (await answers(s.url))
          },
          { timeoutMs: 300_000, intervalMs: 20 },
        )
        readyMs.push(performance.now() - t0)
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err))
      }
    }),
  )
  const allReadyMs = performance.now() - t0
  const s0 = performance.now()
  await Promise.all(states.map((s) => spawner.stop(s, { graceMs: 5_000 }).catch(() => {})))
  return { startedMs, readyMs, failures, allReadyMs, allStoppedMs: performance.now() - s0 }
}

export const scenario: Scenario = {
  name: 'containers',
  title: 'Container spawns: N servers started at once by the docker spawner, until all answer, beside local-process',
  async run(ctx: ScenarioContext) {
    if (!isRoot)
      return {
        metrics: {},
        tables: [],
        targets: [reported('container spawns', 'not run: dockerd needs root')],
        notes: ['Run the benchmarks as root to start dockerd for this scenario.'],
      }
    const n = spawnCount(ctx.quick)
    const hubId = `bench-containers-${process.pid}`
    const engineDir = join(ctx.dir, 'docker')
    ctx.cleanups.push(() => stopEngine(engineDir))
    ctx.progress('starting dockerd (vfs storage) and building the test image')
    const engine = await startEngine(engineDir)

    const docker = SPAWNERS.docker.create(
      SPAWNERS.docker.settings.parse({
        host: engine.host,
        image: engine.image,
        pullPolicy: 'never',
        network: 'host',
        cmd: [BUSYBOX, ...HTTPD],
        volumes: TEST_IMAGE_VOLUMES,
      }),
      { dataDir: ctx.dir, log: quiet },
    )
    ctx.progress(`docker: ${n} containers at once`)
    const inContainers = await storm(docker, n, hubId, 'c')

    // as root, local-process runs each server as an account of its own, made at its first spawn
    const accounts = testPrefix()
    ctx.cleanups.push(() => (isRoot ? removeAccounts(accounts) : undefined))
    const local = SPAWNERS['local-process'].create(
      SPAWNERS['local-process'].settings.parse({
        command: [BUSYBOX, 'httpd'],
        args: HTTPD.slice(1),
        userPrefix: accounts,
      }),
      { dataDir: join(ctx.dir, 'local'), log: quiet },
    )
    ctx.progress(`local-process: ${n} processes at once (with their accounts made first, as root)`)
    const asProcesses = await storm(local, n, hubId, 'p')

    const row = (name: string, s: Storm): Array<string | number> => {
      const ready = summary(s.readyMs)
      return [
        name,
        s.readyMs.length,
        s.failures.length,
        round(summary(s.startedMs).p50 / 1000, 2),
        round(ready.p50 / 1000, 2),
        round(ready.p90 / 1000, 2),
        round(s.allReadyMs / 1000, 2),
        round(s.allStoppedMs / 1000, 2),
      ]
    }
    const table: Table = {
      title: `${n} servers started at once (seconds from the burst)`,
      columns: [
        'spawner',
        'ready',
        'failed',
        'start returned p50',
        'ready p50',
        'ready p90',
        'all ready',
        'all stopped',
      ],
      rows: [row('docker', inContainers), row('local-process', asProcesses)],
    }
    return {
      metrics: {
        n,
        docker: { ...inContainers, failures: inContainers.failures.slice(0, 10) },
        localProcess: { ...asProcesses, failures: asProcesses.failures.slice(0, 10) },
      },
      tables: [table],
      targets: [
        check(
          `every one of ${n} containers answered`,
          'all',
          `${inContainers.readyMs.length}/${n}`,
          !inContainers.failures.length,
        ),
        reported(`docker: all ${n} ready`, `${round(inContainers.allReadyMs / 1000, 1)} s`),
        reported(`local-process: all ${n} ready`, `${round(asProcesses.allReadyMs / 1000, 1)} s`),
        reported(
          'docker / local-process, all ready',
          `${round(inContainers.allReadyMs / Math.max(1, asProcesses.allReadyMs), 2)}×`,
        ),
      ],
      notes: [
        'Both spawners driven directly (start, poll until the server answers HTTP, stop), as the hub drives them; the hub, Redis and the proxy are not in the loop.',
        'docker: dockerd with the vfs storage driver and host networking, the test image (a root filesystem importing the host’s /usr read-only), busybox httpd in each container.',
        'local-process as root makes a Unix account per user at its first spawn (useradd): that is in its figures.',
        'docker stops: busybox httpd as a container’s first process ignores SIGTERM (no handler, and the kernel sends none to a namespace’s init by default), so each stop waits out its grace (5 s) before SIGKILL; images that run tini (the docker-stacks images) stop at once.',
        ...(inContainers.failures.length ? [`docker failures (first): ${inContainers.failures[0]}`] : []),
      ],
    }
  },
}
