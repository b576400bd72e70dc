// What a supervisor killed with SIGKILL leaves behind: Redis, the hub and nginx run in process groups
// of their own, so they outlive it, and hold the ports the next `edgehub up` needs. The supervisor
// keeps the pid and start time of each part in dataDir/stack.pids; the next start stops the groups
// still led by those same processes (a pid reused by another program has another start time).
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { groupMembers, killGroup } from '../../../runtime/src/child'

export const PIDS_FILE = 'stack.pids'

interface Recorded {
  part: string
  pid: number
  startTime: string
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot); undefined when gone. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

/** Keeps the running parts' pids in dataDir (written whole, then renamed into place). */
export function recordParts(dataDir: string, parts: Array<{ part: string; pid: number | undefined }>): void {
  const entries: Recorded[] = []
  for (const { part, pid } of parts) {
    const startTime = pid ? startTimeOf(pid) : undefined
    if (pid && startTime) entries.push({ part, pid, startTime })
  }
  const file = join(dataDir, PIDS_FILE)
  writeFileSync(`${file}.new`, `${JSON.stringify(entries)}\n`, { mode: 0o600 })
  renameSync(`${file}.new`, file)
}

export function forgetParts(dataDir: string): void {
  rmSync(join(dataDir, PIDS_FILE), { force: true })
}

/**
 * Stops (SIGTERM, then SIGKILL after graceMs) the process groups of parts a previous supervisor
 * recorded that still run; returns what it stopped. Nothing when the file is absent or unreadable.
 */
export async function stopLeftovers(dataDir: string, graceMs = 5000): Promise<Recorded[]> {
  let recorded: Recorded[]
  try {
    recorded = JSON.parse(readFileSync(join(dataDir, PIDS_FILE), 'utf8'))
    if (!Array.isArray(recorded)) return []
  } catch {
    return []
  }
  const alive = recorded.filter((r) => Number.isInteger(r.pid) && r.pid > 1 && startTimeOf(r.pid) === r.startTime)
  for (const r of alive) {
    try {
      process.kill(-r.pid, 'SIGTERM')
    } catch {
      /* the group is gone */
    }
  }
  const deadline = Date.now() + graceMs
  while (alive.some((r) => groupMembers(r.pid).length) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50))
  await Promise.all(alive.map((r) => killGroup(r.pid)))
  forgetParts(dataDir)
  return alive
}
