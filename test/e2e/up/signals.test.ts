// Stopping the stack whatever the signal and whatever state it is in: Ctrl-C to the process group of
// a real `npm start`, and SIGTERM while the hub is crash-looping or Redis does not answer.
import { afterAll, describe, expect, it } from 'vitest'
import { readFileSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import {
  ROOT,
  alive,
  cleanup,
  dataDir,
  descendants,
  loginAdmin,
  partPid,
  processTable,
  stackEnv,
  startServer,
  status,
  up,
  withEnv,
  type Up,
} from './support'
import { waitFor } from '../../../runtime/src/wait'

afterAll(cleanup)

/** Every process that came from this stack and is still alive. */
function leftovers(u: Up, known: number[], group?: number): number[] {
  const hubId = readFileSync(join(u.dir, 'stack-id'), 'utf8').trim()
  const inGroup = group
    ? [...processTable()].filter(([, s]) => (s.pgrp === group || s.sid === group) && s.state !== 'Z').map(([p]) => p)
    : []
  const left = new Set([
    ...known.filter(alive),
    ...inGroup,
    ...withEnv('EDGEHUB_DATA_DIR', u.dir),
    ...withEnv('EDGEHUB_HUB_ID', hubId),
  ])
  return [...left]
}

/** Lines of the supervisor's log with msg. */
const logged = (u: Up, msg: string) =>
  u
    .output()
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`)).length

describe('stopping edgehub up', () => {
  it('Ctrl-C to the process group of npm start stops everything, in order', async () => {
    // npm start installs what is missing: never in the middle of other tests' runs
    const lock = (p: string) => statSync(join(ROOT, p)).mtimeMs
    expect(
      lock('package-lock.json'),
      'node_modules is older than package-lock.json: run npm ci first',
    ).toBeLessThanOrEqual(lock('node_modules/.package-lock.json'))
    const u = await up(await stackEnv(dataDir()), { npm: true, detached: true })
    const pgid = u.proc.pid!
    const admin = await loginAdmin(u)
    const serverPid = await startServer(u, admin)
    const known = [...descendants(pgid), serverPid]
    const t0 = Date.now()
    process.kill(-pgid, 'SIGINT') // what the terminal does on Ctrl-C
    const code = await u.exit
    const took = Date.now() - t0
    await waitFor('no process of the stack left', () => leftovers(u, known, pgid).length === 0, {
      timeoutMs: 10_000,
    }).catch(() => {})
    const left = leftovers(u, known, pgid)
    // npm itself ends by the SIGINT it got (a shell shows 130); the supervisor exits 0 after 'stopped'
    console.log(
      `npm start, SIGINT to its process group: npm exited (${code ?? u.proc.signalCode}) after ${took} ms; left: ${left.length}`,
    )
    expect(left).toEqual([])
    expect(code === 0 || u.proc.signalCode === 'SIGINT').toBe(true)
    expect(u.output()).toContain('edgehub: stopped')
    expect(u.output()).not.toContain('failed to stop')
    const order = ['stopped all user servers', 'stopped'].map((m) => u.output().indexOf(`"msg":"${m}"`))
    expect(order[0]).toBeGreaterThan(0)
    expect(order[1]).toBeGreaterThan(order[0])
  })

  it('SIGTERM while the hub is crash-looping', async () => {
    const u = await up(await stackEnv(dataDir()))
    const known = descendants(u.proc.pid!)
    // the hub's port taken as soon as it is killed: every new hub exits at once
    process.kill(partPid(u.proc.pid!, 'edgehub.js hub')!, 'SIGKILL')
    const blocker: Server = await waitFor(
      'the hub port to be free',
      () =>
        new Promise<Server | null>((resolve) => {
          const s = createServer()
          s.once('error', () => resolve(null))
          s.listen(u.hubPort, '127.0.0.1', () => resolve(s))
        }),
      { intervalMs: 5 },
    )
    try {
      await waitFor('the hub to crash twice more', () => logged(u, 'hub exited; restarting') >= 3, {
        timeoutMs: 20_000,
      })
      const t0 = Date.now()
      u.proc.kill('SIGTERM')
      const code = await u.exit
      const took = Date.now() - t0
      console.log(`SIGTERM during a hub crash loop: stopped in ${took} ms`)
      expect(code).toBe(0)
      expect(took).toBeLessThan(5000)
      expect(leftovers(u, known)).toEqual([])
    } finally {
      blocker.close()
    }
  })

  it('after a SIGKILL of the supervisor, the next start stops what it left running and comes up', async () => {
    const env = await stackEnv(dataDir())
    const first = await up(env)
    const parts = ['redis-server', 'edgehub.js hub', 'nginx: master'].map((what) => partPid(first.proc.pid!, what)!)
    expect(
      parts.every((p) => p > 0),
      String(parts),
    ).toBe(true)
    first.proc.kill('SIGKILL')
    await first.exit
    expect(parts.every(alive)).toBe(true) // in process groups of their own, they outlive it, holding the ports
    const second = await up(env)
    expect(second.output()).toContain(
      `edgehub: stopped what an earlier edgehub up of ${env.EDGEHUB_DATA_DIR} left running: redis (pid ${parts[0]}), hub (pid ${parts[1]}), proxy (pid ${parts[2]})`,
    )
    expect(parts.filter(alive)).toEqual([])
    expect(await status(`${second.url}/hub/api/`)).toBe(200)
    second.proc.kill('SIGTERM')
    expect(await second.exit).toBe(0)
  })

  it('SIGTERM while Redis does not answer', async () => {
    const u = await up(await stackEnv(dataDir()))
    const admin = await loginAdmin(u)
    const serverPid = await startServer(u, admin)
    const known = [...descendants(u.proc.pid!), serverPid]
    // stopped, not killed: connections hang and the supervisor sees no exit to restart
    const redisPid = partPid(u.proc.pid!, 'redis-server')!
    process.kill(redisPid, 'SIGSTOP')
    try {
      const t0 = Date.now()
      u.proc.kill('SIGTERM')
      const code = await u.exit
      const took = Date.now() - t0
      console.log(`SIGTERM with Redis not answering: stopped in ${took} ms`)
      expect(code).toBe(0)
      expect(u.output()).toContain('Redis does not answer')
      expect(took).toBeLessThan(10_000)
      await waitFor('no process of the stack left', () => leftovers(u, known).length === 0, { timeoutMs: 5000 }).catch(
        () => {},
      )
      expect(leftovers(u, known)).toEqual([])
    } finally {
      if (alive(redisPid)) process.kill(redisPid, 'SIGCONT')
    }
  })
})
