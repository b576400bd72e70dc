// The benchmark harness itself, in its quick mode (tiny sizes, one- or two-second runs): every
// scenario except routes (its sizes are the point) runs end to end against real nginx, Redis,
// configurable-http-proxy, hub stacks and busybox servers, and writes its results. The figures of a quick run mean nothing and are not
// checked; that the harness works is.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT } from '../../support/stack'

const out = mkdtempSync(join(tmpdir(), 'edgehub-bench-smoke-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))

function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

describe('npm run bench --quick', () => {
  it('runs the proxy scenarios and writes JSON, markdown and SVG plots', { timeout: 240_000 }, async () => {
    const names = ['loadgen', 'http', 'websocket', 'churn', 'soak']
    const r = await bench([...names, '--quick', '--out', out])
    expect(r.stderr).not.toMatch(/failed:/)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/\[\d\d:\d\d 1\/5 loadgen\]/) // progress lines
    const stem = readdirSync(out).find((f) => f.endsWith('-quick.json'))!.replace(/\.json$/, '')
    const report = JSON.parse(readFileSync(join(out, `${stem}.json`), 'utf8'))
    expect(report.quick).toBe(true)
    expect(report.machine.cpus).toBeGreaterThan(0)
    expect(report.scenarios.map((s: { name: string }) => s.name)).toEqual(names)
    for (const s of report.scenarios) {
      expect(s.error, s.name).toBeUndefined()
      expect(s.result.targets.length, s.name).toBeGreaterThan(0)
      for (const t of s.result.targets) expect(t.value, `${s.name}: ${t.name}`).not.toMatch(/NaN|undefined/)
    }
    const http = report.scenarios.find((s: { name: string }) => s.name === 'http').result.metrics.median
    for (const system of ['nginx', 'edgehub (cookie)', 'edgehub (token)', 'configurable-http-proxy']) {
      expect(http[system].rps, system).toBeGreaterThan(0)
      expect(http[system].latencyMs.p99, system).toBeGreaterThan(0)
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
    expect(spawn.startStatuses).not.toHaveProperty('429')
    expect(spawn.readyMs.count).toBe(spawn.users)
    expect([spawn.routesAfterStop, spawn.serverProcessesLeft]).toEqual([0, 0])
    const api = metrics('api')
    expect(api.oneReplica.list.rps).toBeGreaterThan(0)
    expect(api.twoReplicas.user.rps).toBeGreaterThan(0)
    expect(api.replicaStartMs.fullUserBase.runs).toHaveLength(3)
  })

  it('refuses an unknown scenario by name', async () => {
    const r = await bench(['nosuch', '--out', out])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/unknown scenario nosuch; one of: .*http/)
  })
})
