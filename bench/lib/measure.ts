// One load run against one system: wrk for a fixed time, plus the CPU the system's processes used
// during it (CPU time per request is steadier than throughput on a shared machine). Every answer's
// status is counted: one outside 2xx (a 3xx too), a reset or a timeout fails the run, except for a
// system we only compare with (configurable-http-proxy), whose error answers are counted and reported.
import { cpuSeconds, processTree } from './proc'
import { round } from './stats'
import { badStatuses, runWrk, wrkErrors, type WrkRequest, type WrkResult } from './wrk'

export interface LoadRun extends WrkResult {
  system: string
  /** CPU µs the system's processes (master and workers) spent per request. */
  cpuUsPerRequest: number
  /** CPU µs wrk itself spent per request. */
  wrkCpuUsPerRequest: number
}

export async function loadRun(opts: {
  system: string
  url: string
  /** The system's top process (nginx master, node); its descendants are counted too. */
  pid: number
  requests: WrkRequest[]
  connections: number
  durationSec: number
  dir: string
  /** A system we only compare with: its error answers are counted (in `errors`), not fatal. */
  tolerateErrors?: boolean
  /** CPU list wrk is pinned to (taskset -c). */
  wrkCpus?: string
}): Promise<LoadRun> {
  const pids = processTree(opts.pid)
  const before = cpuSeconds(pids)
  const r = await runWrk({ ...opts, cpus: opts.wrkCpus })
  const used = cpuSeconds(pids) - before
  if (wrkErrors(r) > 0 && !opts.tolerateErrors)
    throw new Error(
      `${opts.system}: ${wrkErrors(r)} errors in ${r.requests} answers: ${badStatuses(r) || 'no bad status'}; sockets ${JSON.stringify(r.errors)}`,
    )
  return {
    system: opts.system,
    ...r,
    cpuUsPerRequest: round((used * 1e6) / r.requests, 1),
    wrkCpuUsPerRequest: round((r.cpuSeconds * 1e6) / r.requests, 1),
  }
}

/** A report note naming the systems whose runs got error answers (tolerated ones), or none. */
export function errorNotes(runs: Map<string, LoadRun[]>): string[] {
  const out: string[] = []
  for (const [system, rs] of runs) {
    const errors = rs.reduce((n, r) => n + wrkErrors(r), 0)
    const requests = rs.reduce((n, r) => n + r.requests, 0)
    const statuses = rs.map(badStatuses).filter(Boolean).join('; ')
    if (errors)
      out.push(
        `${system} answered ${errors} of ${requests} measured requests with an error (a status outside 2xx, a reset or a timeout${statuses ? `; statuses ${statuses}` : ''}); its throughput counts them as answers.`,
      )
  }
  return out
}
