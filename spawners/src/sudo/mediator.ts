// The hub's side of the sudo mediator (edgehub-sudo-mediator): one call is one `sudo -u ACCOUNT -n
// MEDIATOR` with a JSON request on stdin and a JSON answer on stdout. The request travels on stdin,
// never on the command line, because a spawn's environment holds the server's token.
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import type { Json } from '../spawner'

export type MediatorRequest =
  | { op: 'spawn'; argv: string[]; env: Record<string, string> }
  | { op: 'poll'; pid: number; startTime: string }
  | { op: 'kill'; pid: number; startTime: string; signal: 'SIGTERM' | 'SIGKILL' }

export interface MediatorCall {
  /** The words before `-u ACCOUNT -n MEDIATOR`: ['sudo'] (a test runs sudo as its hub account). */
  sudo: string[]
  /** The mediator program and its arguments, as the sudoers rule names them. */
  mediator: string[]
  account: string
  timeoutMs: number
  /** For a spawn: the server's log file, given to the mediator (and so the server) as its stderr. */
  logFile?: string
}

/** The last line of a log file's tail: what sudo or the mediator said before failing there. */
function lastLine(file: string): string {
  try {
    const text = readFileSync(file, 'utf8').slice(-2000).trim()
    return text.split('\n').pop() ?? ''
  } catch {
    return ''
  }
}

/** Runs one mediator operation as `account`; its answer, or an error saying what sudo or the mediator refused. */
export async function callMediator(call: MediatorCall, req: MediatorRequest): Promise<{ [k: string]: Json }> {
  const [sudo, ...sudoArgs] = call.sudo
  const fd = call.logFile ? openSync(call.logFile, 'a', 0o600) : undefined
  try {
    const child = spawn(sudo, [...sudoArgs, '-u', call.account, '-n', ...call.mediator], {
      stdio: ['pipe', 'pipe', fd ?? 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
      timeout: call.timeoutMs,
    })
    let out = ''
    let err = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d.slice(0, 65536)))
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d.slice(0, 4096)))
    child.stdin!.on('error', () => {}) // sudo refused before reading: the exit says why
    child.stdin!.end(JSON.stringify(req))
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', (e) => reject(new Error(`failed to run ${sudo}: ${e.message}`)))
      child.once('close', (c) => resolve(c))
    })
    let answer: { [k: string]: Json } | undefined
    try {
      answer = JSON.parse(out.trim().split('\n').pop() ?? '')
    } catch {
      /* no answer: sudo itself refused, or the mediator died */
    }
    if (answer && typeof answer.error === 'string')
      throw new Error(`sudo mediator (${req.op} as ${call.account}): ${answer.error}`)
    if (code === 0 && answer) return answer
    const said = (call.logFile ? lastLine(call.logFile) : err.trim().split('\n').pop()) || `exit status ${code}`
    throw new Error(`sudo -u ${call.account} ${call.mediator[0]} failed: ${said}`)
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
