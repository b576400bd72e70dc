// Process trees on Linux, from /proc: a detached start (a process group of its own, output to a log
// file), whether a recorded {pid, startTime} is still that same process, and stopping a whole tree
// (SIGTERM to the group, SIGKILL to what outlives the grace period, kernels in sessions of their own
// included). Used by the local-process spawner and by the hub for managed services.
import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs'

/** A process as recorded: its pid and its start time (field 22 of /proc/PID/stat), so a reused pid is not mistaken for it. */
export interface ProcessRef {
  pid?: unknown
  startTime?: unknown
}

/** Field 22 of /proc/PID/stat (start time in clock ticks) and the process state; undefined when gone. */
export function procStat(pid: number): { startTime: string; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { state: rest[0], startTime: rest[19] }
  } catch {
    return undefined
  }
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    /* already gone */
  }
}

/** Signals the process group led by pid, if that group still exists. */
export function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, 0)
  } catch {
    return
  }
  signal(-pid, sig)
}

/** pid -> parent pid of every process, from /proc. */
export function parents(): Map<number, number> {
  const out = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      out.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      /* exited meanwhile */
    }
  }
  return out
}

/** Whether the kernel lists each thread's children (/proc/PID/task/TID/children). */
const childrenFiles = existsSync(`/proc/self/task/${process.pid}/children`)

/** Direct children of pid: those of each of its threads. */
function childrenOf(pid: number): number[] {
  let tids: string[]
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return [] // gone
  }
  const out: number[] = []
  for (const tid of tids) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' '))
        if (c.trim()) out.push(Number(c))
    } catch {
      /* the thread exited meanwhile */
    }
  }
  return out
}

/**
 * Every live descendant of pid. Walks the tree down from pid where the kernel lists children, so the
 * cost follows the size of the tree, not the number of processes on the machine (a hub stopping one
 * of a thousand servers); else from the parent of every process.
 */
export function descendants(pid: number): number[] {
  const out: number[] = []
  if (childrenFiles) {
    const walk = (p: number) => childrenOf(p).forEach((c) => (out.push(c), walk(c)))
    walk(pid)
    return out
  }
  const children = new Map<number, number[]>()
  for (const [child, ppid] of parents()) children.set(ppid, [...(children.get(ppid) ?? []), child])
  const walk = (p: number) => (children.get(p) ?? []).forEach((c) => (out.push(c), walk(c)))
  walk(pid)
  return out
}

/** The process state names ({pid, startTime}) is still that same process, not a reused pid. */
export function alive(state: ProcessRef): boolean {
  const pid = Number(state.pid)
  const st = pid > 0 ? procStat(pid) : undefined
  return !!st && st.state !== 'Z' && st.startTime === state.startTime
}

/** SIGTERM to the process group, SIGKILL after graceMs to whatever of its tree is left. */
export async function stopTree(state: ProcessRef, graceMs: number): Promise<void> {
  const pid = Number(state.pid)
  if (!alive(state)) return
  // Kernels run in sessions of their own: note the whole tree now, while it hangs together.
  const tree = [pid, ...descendants(pid)]
  signalGroup(pid, 'SIGTERM') // the server shuts its kernels down on SIGTERM
  const deadline = Date.now() + graceMs
  while (alive(state) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  if (alive(state)) signalGroup(pid, 'SIGKILL')
  for (const p of tree) signal(p, 'SIGKILL') // whatever outlived the grace period
  while (alive(state)) await new Promise((r) => setTimeout(r, 20))
}

/**
 * Starts a detached process (its own process group) with output to logFile; its {pid, startTime},
 * and `exited`, which resolves when this process sees it exit (never, after a restart of ours).
 */
export async function startDetached(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string>; logFile: string },
): Promise<{ pid: number; startTime: string; exited: Promise<void> }> {
  const fd = openSync(opts.logFile, 'a', 0o600)
  const child = spawn(cmd, args, { cwd: opts.cwd, detached: true, stdio: ['ignore', fd, fd], env: opts.env })
  closeSync(fd)
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!))
    child.once('error', (err) => reject(new Error(`failed to start ${cmd}: ${err.message}`)))
  })
  child.unref()
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return { pid, startTime: procStat(pid)?.startTime ?? '', exited }
}
