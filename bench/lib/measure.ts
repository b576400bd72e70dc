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
}): Promise<LoadRun> {
  const pids = processTree(opts.pid)
  const before = cpuSeconds(pids)
  const r = await runWrk(opts)
  const used = cpuSeconds(pids) - before
  if (wrkErrors(r) > 0) throw new Error(`${opts.system}: wrk saw errors ${JSON.stringify(r.errors)}`)
  return {
    system: opts.system,
    ...r,
    cpuUsPerRequest: round((used * 1e6) / r.requests, 1),
    wrkCpuUsPerRequest: round((r.cpuSeconds * 1e6) / r.requests, 1),
  }
}
