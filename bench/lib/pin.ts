// CPU pinning for the efficiency runs: a proxy's processes (every thread) on one CPU, the load
// generator on another (taskset from util-linux), so the proxy's CPU per request and the throughput
// one core of it reaches are not mixed with the load generator's share of the same cores.
import { execFileSync, spawnSync } from 'node:child_process'
import { cpus } from 'node:os'
import { processTree } from './proc'

/** The CPU the proxy under test is pinned to, and the one wrk is pinned to. */
export const PROXY_CPU = '1'
export const WRK_CPU = '0'

/** Why pinning is not possible here, or undefined when it is (two CPUs or more, taskset installed). */
export function cannotPin(): string | undefined {
  if (cpus().length < 2) return `only ${cpus().length} CPU`
  const r = spawnSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' })
  if (r.error || r.status !== 0) return 'taskset (util-linux) is not installed'
  return undefined
}

/** Pins pid and every descendant (all their threads) to the CPU list, e.g. "1". */
export function pinTree(pid: number, cpuList: string): void {
  for (const p of processTree(pid)) execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(p)], { stdio: 'ignore' })
}
