// Runs wrk (Debian's package) with a generated Lua script that rotates through a list of requests
// (each connection starts at a different one), counts every answer by status and prints the counts
// and the latency distribution as JSON. wrk itself counts only statuses of 400 and above as errors;
// here every answer outside 2xx is one (a 302 to the login page is a failed request to a server).
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { round } from './stats'

export interface WrkRequest {
  path: string
  method?: string
  headers?: Record<string, string>
  body?: string
}

export interface WrkOptions {
  /** Base URL, e.g. http://127.0.0.1:8000 */
  url: string
  requests: WrkRequest[]
  connections: number
  durationSec: number
  /** wrk threads; default 1 (on 2 cores the proxy and upstream need the rest). */
  threads?: number
  timeoutSec?: number
  /** Where to write the generated script. */
  dir: string
  /** CPU list to pin wrk to (taskset -c), e.g. "0"; default: not pinned. */
  cpus?: string
}

export interface WrkResult {
  requests: number
  seconds: number
  rps: number
  /** Socket errors, and `status`: answers with a status outside 2xx (3xx included). */
  errors: { connect: number; read: number; write: number; timeout: number; status: number }
  /** Every answer counted by its status, e.g. { "200": 251230 }. */
  statuses: Record<string, number>
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number }
  /** CPU seconds (user + system) wrk used. */
  cpuSeconds: number
}

function rawRequest(host: string, r: WrkRequest): string {
  const headers: Record<string, string> = { Host: host, ...r.headers }
  if (r.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(r.body))
  let out = `${r.method ?? 'GET'} ${r.path} HTTP/1.1\r\n`
  for (const [k, v] of Object.entries(headers)) out += `${k}: ${v}\r\n`
  return `${out}\r\n${r.body ?? ''}`
}

// The requests come from a data file, one per line with CR LF written as \\1 (a Lua source file with
// 100,000 string constants would be too much for the parser).
const SCRIPT = (dataFile: string) => `
reqs = {}
for line in io.lines(${JSON.stringify(dataFile)}) do
  reqs[#reqs + 1] = line:gsub("\\1", "\\r\\n")
end
local n = #reqs
local counter = 0
local threads = {}
setup = function(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
  threads[#threads + 1] = thread
end
init = function(args)
  i = (offset or 0) % n
  statuses = {}
end
request = function()
  i = i % n + 1
  return reqs[i]
end
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
  local e = summary.errors
  local counts = {}
  for _, t in ipairs(threads) do
    for status, count in pairs(t:get("statuses") or {}) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(counts) do
    parts[#parts + 1] = string.format('"%d":%d', status, count)
  end
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"statuses":{%s},"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%f}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ","),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
`

export function runWrk(opts: WrkOptions): Promise<WrkResult> {
  const host = new URL(opts.url).host
  const stem = join(opts.dir, `wrk-${process.hrtime.bigint()}`)
  const script = `${stem}.lua`
  const lines = opts.requests.map((r) => {
    const raw = rawRequest(host, r)
    if (/[\x00-\x09\x0b\x0c\x0e-\x1f]|\n(?<!\r\n)/.test(raw))
      throw new Error(`wrk: request for ${r.path} has control characters`)
    return raw.replaceAll('\r\n', '\x01')
  })
  writeFileSync(`${stem}.data`, `${lines.join('\n')}\n`)
  writeFileSync(script, SCRIPT(`${stem}.data`))
  const args = [
    `-t${opts.threads ?? 1}`,
    `-c${opts.connections}`,
    `-d${opts.durationSec}s`,
    `--timeout`,
    `${opts.timeoutSec ?? 5}s`,
    '-s',
    script,
    opts.url,
  ]
  return new Promise((resolve, reject) => {
    // bash's `times` prints the CPU time of its finished children (wrk) on its second line
    const wrk = opts.cpus ? `taskset -c ${opts.cpus} wrk` : 'wrk'
    execFile(
      'bash',
      ['-c', `${wrk} "$@"; rc=$?; times; exit $rc`, 'wrk', ...args],
      { encoding: 'utf8', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('WRKJSON '))
        if (err || !line)
          return reject(new Error(`wrk failed: ${err?.message ?? ''} ${stderr.trim()} ${stdout.slice(-500)}`))
        const j = JSON.parse(line.slice(8)) as {
          requests: number
          duration_us: number
          errors: WrkResult['errors']
          statuses: Record<string, number>
          latency_us: Record<keyof WrkResult['latencyMs'], number>
        }
        const seconds = j.duration_us / 1e6
        const times =
          stdout
            .trim()
            .split('\n')
            .at(-1)!
            .match(/(\d+)m([\d.]+)s/g) ?? []
        const cpu = times
          .map((t) => {
            const [, m, sec] = /(\d+)m([\d.]+)s/.exec(t)!
            return Number(m) * 60 + Number(sec)
          })
          .reduce((a, b) => a + b, 0)
        const ms = (us: number) => round(us / 1000)
        // wrk's own status count (>= 400) is replaced by every answer outside 2xx
        const bad = Object.entries(j.statuses).reduce(
          (a, [status, count]) => a + (Number(status) >= 200 && Number(status) < 300 ? 0 : count),
          0,
        )
        resolve({
          requests: j.requests,
          seconds: round(seconds),
          rps: Math.round(j.requests / seconds),
          errors: { ...j.errors, status: bad },
          statuses: j.statuses,
          latencyMs: {
            p50: ms(j.latency_us.p50),
            p90: ms(j.latency_us.p90),
            p99: ms(j.latency_us.p99),
            p999: ms(j.latency_us.p999),
            max: ms(j.latency_us.max),
            mean: ms(j.latency_us.mean),
          },
          cpuSeconds: round(cpu),
        })
      },
    )
  })
}

/** "302 × 1200, 200 × 3" — the answers outside 2xx, for an error message. */
export const badStatuses = (r: WrkResult) =>
  Object.entries(r.statuses)
    .filter(([status]) => !status.startsWith('2'))
    .map(([status, count]) => `${status} × ${count}`)
    .join(', ')

/** Total of the error counters: socket errors and answers outside 2xx. */
export const wrkErrors = (r: WrkResult) =>
  r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout + r.errors.status
