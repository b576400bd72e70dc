// The benchmark harness itself, in its quick mode (tiny sizes, one- or two-second runs): every
// scenario except routes (its sizes are the point) runs end to end against real nginx, Redis,
// configurable-http-proxy, hub stacks and busybox servers, and writes its results. The figures of a quick run mean nothing and are not
// checked; that the harness works is, and that the load generator counts every answer's status.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadRun } from '../../../bench/lib/measure'
import { runWrk } from '../../../bench/lib/wrk'
import { ROOT } from '../../support/stack'

const VERDICTS = ['met', 'missed', 'reported', 'inconclusive']

const out = mkdtempSync(join(tmpdir(), 'edgehub-bench-smoke-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))

function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', ...args],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 32 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
      },
    )
  })
}

describe('npm run bench --quick', () => {
  it('runs the proxy scenarios and writes JSON, markdown and SVG plots', { timeout: 240_000 }, async () => {
    const names = ['loadgen', 'http', 'websocket', 'churn', 'soak']
    const r = await bench([...names, '--quick', '--out', out])
    expect(r.stderr).not.toMatch(/failed:/)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/\[\d\d:\d\d 1\/5 loadgen\]/) // progress lines
    const stem = readdirSync(out)
      .find((f) => f.endsWith('-quick.json'))!
      .replace(/\.json$/, '')
    const report = JSON.parse(readFileSync(join(out, `${stem}.json`), 'utf8'))
    expect(report.quick).toBe(true)
    expect(report.machine.cpus).toBeGreaterThan(0)
    expect(report.scenarios.map((s: { name: string }) => s.name)).toEqual(names)
    for (const s of report.scenarios) {
      expect(s.error, s.name).toBeUndefined()
      expect(s.result.targets.length, s.name).toBeGreaterThan(0)
      for (const t of s.result.targets) {
        expect(t.value, `${s.name}: ${t.name}`).not.toMatch(/NaN|undefined/)
        expect(VERDICTS, `${s.name}: ${t.name}`).toContain(t.verdict)
        // a figure without a goal is never "met"
        expect(t.goal === 'reported', `${s.name}: ${t.name}`).toBe(t.verdict === 'reported')
      }
    }
    // every ratio against nginx carries its spread over the rounds
    const httpTargets = report.scenarios.find((s: { name: string }) => s.name === 'http').result.targets
    for (const t of httpTargets.filter((t: { name: string }) => t.name.includes('/ nginx')))
      expect(t.spread?.rounds.length, t.name).toBe(1)
    // churn is judged on what a client's request observes; the proxy's own apply time is only reported
    const churnTargets = report.scenarios.find((s: { name: string }) => s.name === 'churn').result.targets
    expect(churnTargets.find((t: { name: string }) => t.name.includes("client's request")).goal).toBe('< 10 ms')
    expect(churnTargets.find((t: { name: string }) => t.name.includes('has applied it')).verdict).toBe('reported')
    const http = report.scenarios.find((s: { name: string }) => s.name === 'http').result.metrics.median
    for (const system of ['nginx', 'edgehub (cookie)', 'edgehub (token)', 'configurable-http-proxy']) {
      expect(http[system].rps, system).toBeGreaterThan(0)
      expect(http[system].latencyMs.p99, system).toBeGreaterThan(0)
    }
    // every wrk run counted its answers by status: all 200 (any other answer fails the scenario)
    for (const run of report.scenarios.find((s: { name: string }) => s.name === 'http').result.metrics.runs[
      'edgehub (cookie)'
    ]) {
      expect(Object.keys(run.statuses)).toEqual(['200'])
      expect(run.statuses['200']).toBe(run.requests)
    }
    const md = readFileSync(join(out, `${stem}.md`), 'utf8')
    expect(md).toContain('## Targets')
    for (const plot of ['http-throughput', 'http-latency', 'websocket-throughput', 'soak-memory']) {
      const svg = join(out, `${stem}-${plot}.svg`)
      expect(existsSync(svg), plot).toBe(true)
      expect(readFileSync(svg, 'utf8')).toMatch(/^<svg [^>]+>[\s\S]*<\/svg>\n$/)
      expect(md).toContain(`(${stem}-${plot}.svg)`)
    }
  })

  it('runs the hub scenarios: login storm, spawn storm, API reads', { timeout: 240_000 }, async () => {
    const names = ['login', 'spawn', 'api']
    const dir = join(out, 'hub')
    const r = await bench([...names, '--quick', '--out', dir])
    expect(r.stderr).not.toMatch(/failed:/)
    expect(r.code).toBe(0)
    const file = readdirSync(dir).find((f) => f.endsWith('-quick.json'))!
    const report = JSON.parse(readFileSync(join(dir, file), 'utf8'))
    expect(report.scenarios.map((s: { name: string }) => s.name)).toEqual(names)
    const metrics = (name: string) => {
      const s = report.scenarios.find((x: { name: string }) => x.name === name)
      expect(s.error, name).toBeUndefined()
      for (const t of s.result.targets) expect(t.value, `${name}: ${t.name}`).not.toMatch(/NaN|undefined/)
      return s.result.metrics
    }
    const login = metrics('login')
    expect(login.failed).toBe(0)
    expect(login.hashingSharePct).toBeGreaterThan(0)
    const spawn = metrics('spawn')
    expect(spawn.concurrentSpawnLimit).toBe(spawn.users)
    expect(spawn.startStatuses).not.toHaveProperty('429')
    expect(spawn.readyMs.count).toBe(spawn.users)
    // the storm again with a limit below its size: refused starts are retried after Retry-After
    const limited = spawn.defaultLimit
    expect(limited.concurrentSpawnLimit).toBeLessThan(spawn.users)
    expect(limited.startStatuses).not.toHaveProperty('429')
    expect(limited.errors).toBe(0)
    expect(limited.readyMs.count).toBe(spawn.users)
    expect(limited.throttledUsers).toBeLessThanOrEqual(limited.throttledAnswers)
    if (limited.throttledAnswers) expect(limited.retryAfterSec.min).toBeGreaterThanOrEqual(1)
    expect([limited.routesAfterStop, limited.serverProcessesLeft]).toEqual([0, 0])
    expect([spawn.routesAfterStop, spawn.serverProcessesLeft]).toEqual([0, 0])
    const api = metrics('api')
    expect(api.oneReplica.list.rps).toBeGreaterThan(0)
    expect(api.twoReplicas.user.rps).toBeGreaterThan(0)
    expect(api.replicaStartMs.fullUserBase.runs).toHaveLength(3)
  })

  it(
    'counts every answer by status: a 302 from the server is an error, not a success',
    { timeout: 60_000 },
    async () => {
      // a real HTTP server answering most requests with the redirect a proxy sends without a route
      let answered = 0
      const server = createServer((_req, res) => {
        if (++answered % 4 === 0) res.writeHead(200).end('ok\n')
        else res.writeHead(302, { location: '/hub/user/bench-0/' }).end()
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const dir = mkdtempSync(join(out, 'wrk-'))
      try {
        const r = await runWrk({
          url,
          requests: [{ path: '/user/bench-0/bench' }, { path: '/user/bench-1/bench' }],
          connections: 4,
          threads: 2,
          durationSec: 1,
          dir,
        })
        expect(r.requests).toBeGreaterThan(100)
        expect(Object.keys(r.statuses).sort()).toEqual(['200', '302'])
        expect(r.statuses['200'] + r.statuses['302']).toBe(r.requests)
        expect(r.errors.status).toBe(r.statuses['302'])
        // a load run against such a system fails, naming the statuses
        await expect(
          loadRun({
            system: 'redirecting',
            url,
            pid: process.pid,
            requests: [{ path: '/user/bench-0/bench' }],
            connections: 2,
            durationSec: 1,
            dir,
          }),
        ).rejects.toThrow(/redirecting: \d+ errors in \d+ answers: 302 × \d+/)
        // unless it is a system only compared with: then the errors are counted
        const tolerated = await loadRun({
          system: 'compared',
          url,
          pid: process.pid,
          requests: [{ path: '/x' }],
          connections: 2,
          durationSec: 1,
          dir,
          tolerateErrors: true,
        })
        expect(tolerated.errors.status).toBe(tolerated.statuses['302'])
        expect(tolerated.errors.status).toBeGreaterThan(0)
      } finally {
        await new Promise((resolve) => server.close(resolve))
      }
    },
  )

  it('refuses an unknown scenario by name', async () => {
    const r = await bench(['nosuch', '--out', out])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/unknown scenario nosuch; one of: .*http/)
  })
})
