// Which load generator loads the machine less: wrk (Debian) or autocannon (npm), each driving plain
// nginx with the same connections for the same time. CPU per request of the generator decides; the
// benchmark uses wrk accordingly (bench/lib/wrk.ts).
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { params } from '../lib/params'
import { startUpstream } from '../lib/upstream'
import { startBaselineNginx } from '../lib/systems'
import { loadRun } from '../lib/measure'
import { cpuSeconds, processTree } from '../lib/proc'
import { ratio, round } from '../lib/stats'
import type { Scenario } from '../lib/types'
import { reported } from '../lib/verdict'
import { PROXY_WORKERS } from './http'

const AUTOCANNON = fileURLToPath(new URL('../../node_modules/autocannon/autocannon.js', import.meta.url))
const ROUNDS = 3

interface GenRun {
  generator: string
  /** Answers by status (wrk's response hook; autocannon's statusCodeStats). */
  statuses: Record<string, number>
  rps: number
  p99: number
  genCpuUsPerRequest: number
  proxyCpuUsPerRequest: number
}

/** autocannon as its own process; bash's `times` gives its CPU time as for wrk. */
function autocannon(
  url: string,
  connections: number,
  durationSec: number,
): Promise<{ requests: number; seconds: number; p99: number; cpu: number; statuses: Record<string, number> }> {
  const args = [AUTOCANNON, '-c', String(connections), '-d', String(durationSec), '-j', url]
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      ['-c', '"$@"; rc=$?; times; exit $rc', 'autocannon', process.execPath, ...args],
      { encoding: 'utf8', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const jsonLine = stdout.split('\n').find((l) => l.startsWith('{'))
        if (err || !jsonLine) return reject(new Error(`autocannon failed: ${err?.message ?? ''} ${stderr.slice(-300)}`))
        const j = JSON.parse(jsonLine) as {
          requests: { total: number }
          duration: number
          latency: { p99: number }
          non2xx: number
          errors: number
          timeouts: number
          statusCodeStats?: Record<string, { count: number }>
        }
        const statuses = Object.fromEntries(Object.entries(j.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]))
        // nginx closes a client connection after 1,000 requests (keepalive_requests, as for every
        // system compared), and autocannon may have sent the next one already: up to one reset per
        // 1,000 answers is that, not a failure; a timeout always is
        const resets = j.errors - j.timeouts
        // non2xx counts every answer outside 2xx, 3xx included
        if (j.non2xx || j.timeouts || resets > Math.ceil(j.requests.total / 1000))
          return reject(
            new Error(
              `autocannon saw ${j.non2xx} non-2xx answers (${JSON.stringify(statuses)}), ${j.timeouts} timeouts and ${resets} other errors in ${j.requests.total} requests`,
            ),
          )
        const cpu = (
          stdout
            .trim()
            .split('\n')
            .at(-1)!
            .match(/(\d+)m([\d.]+)s/g) ?? []
        )
          .map((t) => {
            const [, m, s] = /(\d+)m([\d.]+)s/.exec(t)!
            return Number(m) * 60 + Number(s)
          })
          .reduce((a, b) => a + b, 0)
        resolve({ requests: j.requests.total, seconds: j.duration, p99: j.latency.p99, cpu, statuses })
      },
    )
  })
}

export const scenario: Scenario = {
  name: 'loadgen',
  title: 'Load generator: wrk vs autocannon, CPU per request against plain nginx',
  async run(ctx) {
    const connections = params.http.connections
    const durationSec = ctx.quick ? 1 : 5
    const upstream = await startUpstream(join(ctx.dir, 'upstream'))
    ctx.cleanups.push(() => upstream.stop())
    const nginx = await startBaselineNginx({
      runDir: join(ctx.dir, 'nginx'),
      upstreamPort: upstream.port,
      workers: PROXY_WORKERS,
      cleanups: ctx.cleanups,
    })
    const path = '/user/bench-0/bench'
    const runs: GenRun[] = []
    for (let r = 1; r <= (ctx.quick ? 1 : ROUNDS); r++) {
      ctx.progress(`round ${r}: wrk, then autocannon, ${connections} connections for ${durationSec} s each`)
      const w = await loadRun({
        system: 'nginx',
        url: nginx.url,
        pid: nginx.pid,
        requests: [{ path }],
        connections,
        durationSec,
        dir: ctx.dir,
      })
      runs.push({
        generator: 'wrk',
        statuses: w.statuses,
        rps: w.rps,
        p99: w.latencyMs.p99,
        genCpuUsPerRequest: w.wrkCpuUsPerRequest,
        proxyCpuUsPerRequest: w.cpuUsPerRequest,
      })
      const pids = processTree(nginx.pid)
      const before = cpuSeconds(pids)
      const a = await autocannon(`${nginx.url}${path}`, connections, durationSec)
      runs.push({
        generator: 'autocannon',
        statuses: a.statuses,
        rps: Math.round(a.requests / a.seconds),
        p99: a.p99,
        genCpuUsPerRequest: round((a.cpu * 1e6) / a.requests, 1),
        proxyCpuUsPerRequest: round(((cpuSeconds(pids) - before) * 1e6) / a.requests, 1),
      })
    }
    const med = (g: string) => {
      const rs = runs.filter((r) => r.generator === g).sort((a, b) => a.genCpuUsPerRequest - b.genCpuUsPerRequest)
      return rs[Math.floor(rs.length / 2)]
    }
    const [w, a] = [med('wrk'), med('autocannon')]
    const lighter = ratio(a.genCpuUsPerRequest, w.genCpuUsPerRequest)
    return {
      metrics: { connections, durationSec, runs },
      tables: [
        {
          title: `Driving plain nginx (${connections} connections, ${durationSec} s, median of the rounds)`,
          columns: ['generator', 'requests/s reached', 'p99 ms', 'generator CPU µs/request', 'nginx CPU µs/request'],
          rows: [w, a].map((r) => [r.generator, r.rps, r.p99, r.genCpuUsPerRequest, r.proxyCpuUsPerRequest]),
        },
      ],
      targets: [reported('autocannon CPU per request / wrk (wrk is used when > 1)', String(lighter))],
      notes: [
        `wrk needs ${lighter}× less CPU per request than autocannon, leaving more of the two cores to the proxies under test; every scenario uses wrk.`,
      ],
    }
  },
}
