// A supervised child process (of the one-machine stack, or of a replica's wrapper): started, watched,
// stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, closeSync, readdirSync, readFileSync } from 'node:fs'

export interface ChildSpec {
  name: string
  command: string
  args: string[]
  env?: NodeJS.ProcessEnv
  cwd?: string
  logFile: string
  /**
   * Runs the child in a session and process group of its own, led by it: a Ctrl-C in the terminal
   * (SIGINT to the foreground group) then reaches only the supervisor, which stops the children in
   * order. When the child exits, whatever is left of its group (nginx workers of a killed master)
   * is killed before `exited` resolves, so its ports are free for the next start.
   */
  ownGroup?: boolean
}

export interface Child {
  name: string
  proc: ChildProcess
  exited: Promise<number | null>
  stop(graceMs?: number): Promise<void>
}

/** Live (not zombie) members of process group pgid, from /proc. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(entry))
    } catch {
      /* exited meanwhile */
    }
  }
  return out
}

/** SIGKILL to what is left of process group pgid; resolves once none of it is alive (at most timeoutMs). */
export async function killGroup(pgid: number, timeoutMs = 3000): Promise<void> {
  try {
    process.kill(-pgid, 'SIGKILL')
  } catch {
    return // no such group
  }
  const deadline = Date.now() + timeoutMs
  while (groupMembers(pgid).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
}

export function startChild(spec: ChildSpec): Child {
  const fd = openSync(spec.logFile, 'a')
  const proc = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio: ['ignore', fd, fd],
    detached: !!spec.ownGroup,
  })
  closeSync(fd)
  const exited = new Promise<number | null>((resolve) => {
    proc.on('exit', (code, sig) => {
      const status = code ?? (sig ? 128 : null)
      if (spec.ownGroup && proc.pid) void killGroup(proc.pid).then(() => resolve(status))
      else resolve(status)
    })
    proc.on('error', () => resolve(127))
  })
  return {
    name: spec.name,
    proc,
    exited,
    async stop(graceMs = 5000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM')
        proc.kill('SIGCONT') // a stopped process (SIGSTOP, a debugger) acts on it now, not when resumed
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs)
        await exited
        clearTimeout(timer)
      }
      await exited
    },
  }
}
