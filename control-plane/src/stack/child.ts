// A supervised child process of the one-machine stack: started, watched, stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'

export interface ChildSpec {
  name: string
  command: string
  args: string[]
  env?: NodeJS.ProcessEnv
  cwd?: string
  logFile: string
}

export interface Child {
  name: string
  proc: ChildProcess
  exited: Promise<number | null>
  stop(graceMs?: number): Promise<void>
}

export function startChild(spec: ChildSpec): Child {
  const fd = openSync(spec.logFile, 'a')
  const proc = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio: ['ignore', fd, fd],
  })
  closeSync(fd)
  const exited = new Promise<number | null>((resolve) => {
    proc.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : null)))
    proc.on('error', () => resolve(127))
  })
  return {
    name: spec.name,
    proc,
    exited,
    async stop(graceMs = 5000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
  }
}
