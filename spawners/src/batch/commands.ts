// Running a scheduler's commands: a command line with its placeholders filled, an environment of
// its own (never the hub's), optional standard input, a time limit and bounded output.
import { spawn } from 'node:child_process'
import type { CommandLine, CommandOutput } from './scheduler'

/** Most output kept of one command (stdout and stderr each). */
const MAX_OUTPUT = 4 * 1024 * 1024

/** The command line with {name} placeholders filled from vars (unknown ones left as they are). */
export function fillCommand(line: CommandLine, vars: Record<string, string>): CommandLine {
  return { cmd: line.cmd, args: line.args.map((a) => a.replace(/\{([a-z_]+)\}/g, (w, n: string) => vars[n] ?? w)) }
}

export interface RunOptions {
  env: Record<string, string>
  stdin?: string
  cwd?: string
  timeoutMs: number
}

/** Runs cmd args; resolves with its output and exit code (a signal counts as 128 + its number). */
export function runCommand(cmd: string, args: string[], opts: RunOptions): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, opts.timeoutMs)
    child.stdout.on('data', (b: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += b.toString('utf8')
    })
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < MAX_OUTPUT) stderr += b.toString('utf8')
    })
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(new Error(`could not run ${cmd}: ${err.message}`))
    })
    child.on('close', (code, sig) => {
      clearTimeout(timer)
      if (timedOut) return reject(new Error(`${cmd} did not finish within ${opts.timeoutMs / 1000} s`))
      resolve({ stdout, stderr, code: code ?? 128 + (sig ? 15 : 0) })
    })
    child.stdin.on('error', () => {}) // a command that exits without reading its input
    child.stdin.end(opts.stdin ?? '')
  })
}
