// Process figures from /proc: memory (RSS and PSS) and CPU time of a process tree.
import { readFileSync } from 'node:fs'
import { clockTicks } from './clock-ticks'

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** pid and every descendant (from /proc/PID/task/PID/children), pid first. */
export function processTree(pid: number): number[] {
  const out: number[] = []
  const walk = (p: number) => {
    out.push(p)
    const children = read(`/proc/${p}/task/${p}/children`)?.trim()
    if (children) for (const c of children.split(/\s+/)) walk(Number(c))
  }
  walk(pid)
  return out
}

/** Memory in KiB: VmRSS summed (counts shared pages once per process) and PSS summed (shares split). */
export function memoryKiB(pids: number[]): { rss: number; pss: number } {
  let rss = 0
  let pss = 0
  for (const pid of pids) {
    const rollup = read(`/proc/${pid}/smaps_rollup`)
    if (!rollup) continue
    rss += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0)
    pss += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0)
  }
  return { rss, pss }
}

/** CPU seconds (user + system) used so far by the given processes. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0
  for (const pid of pids) {
    const stat = read(`/proc/${pid}/stat`)
    if (!stat) continue
    // fields after the command name (which may hold spaces) — utime is field 14, stime 15
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(rest[11]) + Number(rest[12])
  }
  return ticks / clockTicks()
}
