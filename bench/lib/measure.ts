// One load run against one system: wrk for a fixed time, plus the CPU the system's processes used
// during it (CPU time per request is steadier than throughput on a shared machine).
import { cpuSeconds, processTree } from './proc'
import { round } from './stats'
import { runWrk, wrkErrors, type WrkRequest, type WrkResult } from './wrk'

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
}): Promise<LoadRun> {
  const pids = processTree(opts.pid)
  const before = cpuSeconds(pids)
  const r = await runWrk(opts)
  const used = cpuSeconds(pids) - before
  if (wrkErrors(r) > 0 && !opts.tolerateErrors) throw new Error(`${opts.system}: wrk saw errors ${JSON.stringify(r.errors)}`)
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
    if (errors) out.push(`${system} answered ${errors} of ${requests} measured requests with an error (non-2xx/3xx status, reset or timeout).`)
  }
  return out
}
