// A stand-in for systemd, for tests on machines where systemd is not PID 1 (containers, CI): runs one
// service unit's [Service] section the way systemd runs a Type=simple service, so that the kill and
// restart behaviour a unit file asks for can be exercised with the real replica processes.
//
// What it does as systemd does: a clean environment (systemd's PATH plus the unit's Environment=),
// WorkingDirectory=, a new session for the main process; Restart= by systemd's table (on-failure: a
// non-zero exit, or death by a signal other than SIGHUP, SIGINT, SIGTERM, SIGPIPE) after RestartSec=,
// with systemd's default start limit (5 starts in 10 s); when the main process has exited, what is
// left of the unit's processes gets SIGKILL (KillMode=mixed) or KillSignal= and SIGKILL after
// TimeoutStopSec= (control-group), or is left alone (process). stop(): KillSignal= to the main
// process (to all of them with control-group), SIGKILL after TimeoutStopSec=, then the same clean-up.
// ExecReload= runs with $MAINPID, as `systemctl reload` does.
//
// What it does differently: without a control group of its own, the unit's processes are tracked
// through /proc: every descendant of the main process ever seen (polled every 100 ms and before every
// kill), also once re-parented or in a process group or session of its own; a process that forks and
// is re-parented within one poll is missed. LimitNOFILE= is applied with prlimit(1), capped at this
// machine's hard limit when it is lower and raising it is not permitted (logged). Paths of the
// installed program are mapped to the checkout (UnitRunnerOptions.paths). Any directive or value it
// does not implement is refused with the line naming it, rather than silently ignored.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { basename } from 'node:path'
import { delay, waitFor } from '../../runtime/src/wait'

type KillMode = 'control-group' | 'mixed' | 'process'
type Restart = 'no' | 'always' | 'on-success' | 'on-failure' | 'on-abnormal' | 'on-abort'

export interface ServiceSpec {
  name: string
  description?: string
  environment: Record<string, string>
  workingDirectory?: string
  /** Words before $VAR expansion. */
  execStart: string[]
  execReload?: string[]
  restart: Restart
  restartMs: number
  killMode: KillMode
  killSignal: NodeJS.Signals
  /** Infinity for TimeoutStopSec=infinity. */
  timeoutStopMs: number
  limitNoFile?: { soft: number; hard: number }
}

/** Directives that change nothing when one unit is run alone (ordering, dependencies, enabling). */
const WITHOUT_EFFECT: Record<string, string[]> = {
  Unit: ['Description', 'Documentation', 'After', 'Before', 'Wants', 'Requires'],
  Install: ['WantedBy', 'RequiredBy', 'Alias'],
}
const SERVICE_DIRECTIVES = [
  'Environment',
  'WorkingDirectory',
  'ExecStart',
  'ExecReload',
  'Restart',
  'RestartSec',
  'KillMode',
  'KillSignal',
  'TimeoutStopSec',
  'LimitNOFILE',
]
/** systemd's default PATH for services (systemd 252, merged /usr). */
const SYSTEMD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
/** Signals a main process may die of and still count as a clean exit (systemd's is_clean_exit). */
const CLEAN_SIGNALS = new Set(['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE'])
/** systemd's DefaultStartLimitIntervalSec and DefaultStartLimitBurst. */
const START_LIMIT_INTERVAL_MS = 10_000
const START_LIMIT_BURST = 5
const POLL_MS = 100

class UnitError extends Error {}

/** Splits a systemd value into words: whitespace separates, "…" and '…' quote, \ escapes. */
export function splitWords(value: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  let quote: string | undefined
  for (let i = 0; i < value.length; i++) {
    const c = value[i]
    if (c === '\\' && i + 1 < value.length) {
      word += value[++i]
      inWord = true
    } else if (quote) {
      if (c === quote) quote = undefined
      else word += c
    } else if (c === '"' || c === "'") {
      quote = c
      inWord = true
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word)
      word = ''
      inWord = false
    } else {
      word += c
      inWord = true
    }
  }
  if (quote) throw new UnitError(`unterminated quote in: ${value}`)
  if (inWord) words.push(word)
  return words
}

/** A systemd time span ("45", "45s", "500ms", "1min", "1min 30s", "infinity") in milliseconds. */
export function parseTimeSpan(value: string): number {
  if (value.trim() === 'infinity') return Infinity
  const units: Record<string, number> = {
    '': 1000,
    us: 0.001,
    ms: 1,
    s: 1000,
    sec: 1000,
    m: 60_000,
    min: 60_000,
    h: 3_600_000,
    hr: 3_600_000,
  }
  let total = 0
  const parts = value.trim().split(/\s+/)
  for (const p of parts) {
    const m = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(p)
    if (!m || !(m[2] in units)) throw new UnitError(`not a time span: ${value}`)
    total += Number(m[1]) * units[m[2]]
  }
  return total
}

function parseSignal(value: string): NodeJS.Signals {
  const name = (
    /^\d+$/.test(value)
      ? Object.entries(constants.signals).find(([, n]) => n === Number(value))?.[0]
      : value.startsWith('SIG')
        ? value
        : `SIG${value}`
  ) as NodeJS.Signals | undefined
  if (!name || !(name in constants.signals)) throw new UnitError(`not a signal: ${value}`)
  return name
}

/** The [Service] section of a unit file, refusing whatever this stand-in does not implement. */
export function parseUnit(text: string, name: string): ServiceSpec {
  const spec: ServiceSpec = {
    name,
    environment: {},
    execStart: [],
    restart: 'no',
    restartMs: 100, // systemd's default RestartSec
    killMode: 'control-group',
    killSignal: 'SIGTERM',
    timeoutStopMs: 90_000, // DefaultTimeoutStopSec
  }
  let section = ''
  const lines = text.replace(/\\\n/g, ' ').split('\n')
  lines.forEach((raw, i) => {
    const line = raw.trim()
    const where = `${name}:${i + 1}`
    if (!line || line.startsWith('#') || line.startsWith(';')) return
    const sec = /^\[(.+)\]$/.exec(line)
    if (sec) {
      section = sec[1]
      if (section !== 'Service' && !(section in WITHOUT_EFFECT))
        throw new UnitError(`${where}: section [${section}] is not understood by this stand-in`)
      return
    }
    const eq = line.indexOf('=')
    if (eq < 0) throw new UnitError(`${where}: not a directive: ${line}`)
    const key = line.slice(0, eq).trim()
    const value = line.slice(eq + 1).trim()
    const known =
      section === 'Service' ? SERVICE_DIRECTIVES.includes(key) : (WITHOUT_EFFECT[section] ?? []).includes(key)
    if (!known) throw new UnitError(`${where}: ${key}= in [${section}] is not understood by this stand-in`)
    try {
      switch (key) {
        case 'Description':
          spec.description = value
          break
        case 'Environment':
          for (const a of splitWords(value)) {
            const e = a.indexOf('=')
            if (e <= 0) throw new UnitError(`not an assignment: ${a}`)
            spec.environment[a.slice(0, e)] = a.slice(e + 1)
          }
          break
        case 'WorkingDirectory':
          if (!value.startsWith('/')) throw new UnitError('only an absolute path is implemented')
          spec.workingDirectory = value
          break
        case 'ExecStart':
        case 'ExecReload': {
          const words = splitWords(value)
          if (!words.length || !words[0].startsWith('/'))
            throw new UnitError('only an absolute executable, without prefixes (-, @, +, !, :), is implemented')
          if (key === 'ExecStart') {
            if (spec.execStart.length) throw new UnitError('a Type=simple service has one ExecStart=')
            spec.execStart = words
          } else {
            if (spec.execReload) throw new UnitError('only one ExecReload= is implemented')
            spec.execReload = words
          }
          break
        }
        case 'Restart':
          if (!['no', 'always', 'on-success', 'on-failure', 'on-abnormal', 'on-abort'].includes(value))
            throw new UnitError(`Restart=${value} is not implemented`)
          spec.restart = value as Restart
          break
        case 'RestartSec':
          spec.restartMs = parseTimeSpan(value)
          if (!Number.isFinite(spec.restartMs)) throw new UnitError('RestartSec=infinity is not implemented')
          break
        case 'KillMode':
          if (!['control-group', 'mixed', 'process'].includes(value))
            throw new UnitError(`KillMode=${value} is not implemented`)
          spec.killMode = value as KillMode
          break
        case 'KillSignal':
          spec.killSignal = parseSignal(value)
          break
        case 'TimeoutStopSec':
          spec.timeoutStopMs = parseTimeSpan(value)
          break
        case 'LimitNOFILE': {
          const [soft, hard = soft] = value.split(':').map((v) => (/^\d+$/.test(v) ? Number(v) : NaN))
          if (!Number.isInteger(soft) || !Number.isInteger(hard) || soft > hard)
            throw new UnitError(`LimitNOFILE=${value} is not implemented (numbers only)`)
          spec.limitNoFile = { soft, hard }
          break
        }
      }
    } catch (err) {
      throw new UnitError(`${where}: ${key}=${value}: ${(err as Error).message}`)
    }
  })
  if (!spec.execStart.length) throw new UnitError(`${name}: no ExecStart=`)
  return spec
}

// ---- the unit's processes, tracked through /proc ----

interface ProcInfo {
  ppid: number
  startTime: string
  state: string
}

function procInfo(pid: number): ProcInfo | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return { state: f[0], ppid: Number(f[1]), startTime: f[19] }
  } catch {
    return undefined
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()
  } catch {
    return ''
  }
}

/** Every process that descended from the main processes added, while it lives (pid and start time). */
class ProcessTree {
  /** pid → start time of the process known by that pid */
  private members = new Map<number, string>()
  /** Whatever was ever a member, with its command line when first seen. */
  readonly seen = new Map<string, string>()

  add(pid: number): void {
    const info = procInfo(pid)
    if (info) this.record(pid, info)
  }

  private record(pid: number, info: ProcInfo) {
    this.members.set(pid, info.startTime)
    const key = `${pid}@${info.startTime}`
    if (!this.seen.has(key)) this.seen.set(key, commandOf(pid))
  }

  /** Adds the children of members (repeatedly: grandchildren found in the same pass), drops the dead. */
  scan(): void {
    const all = new Map<number, ProcInfo>()
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue
      const info = procInfo(Number(e))
      if (info) all.set(Number(e), info)
    }
    for (const [pid, start] of this.members) {
      const now = all.get(pid)
      if (!now || now.startTime !== start) this.members.delete(pid)
    }
    let added = true
    while (added) {
      added = false
      for (const [pid, info] of all) {
        if (this.members.has(pid)) continue
        const parentStart = this.members.get(info.ppid)
        // a child of a member: its parent is that very process (not a later one with its pid)
        if (parentStart !== undefined && all.get(info.ppid)?.startTime === parentStart) {
          this.record(pid, info)
          added = true
        }
      }
    }
  }

  /** Members still running (zombies are not: they have exited and wait to be reaped). */
  alive(except?: number): number[] {
    this.scan()
    return [...this.members]
      .filter(([pid, start]) => {
        if (pid === except) return false
        const info = procInfo(pid)
        return info && info.startTime === start && info.state !== 'Z'
      })
      .map(([pid]) => pid)
  }

  signal(pids: number[], sig: NodeJS.Signals): void {
    for (const pid of pids) {
      try {
        process.kill(pid, sig)
      } catch {
        /* gone meanwhile */
      }
    }
  }
}

// ---- the runner ----

export interface UnitRunnerOptions {
  /** Prefixes of paths in the unit and what they are here, e.g. /opt/edgehub/node_modules/edgehub → the checkout. Longest first is not required. */
  paths?: Record<string, string>
  /** Environment= values replaced (a key the unit does not set is refused: the unit changed). */
  environment?: Record<string, string>
}

export type UnitState = 'inactive' | 'active' | 'deactivating' | 'auto-restart' | 'failed'

export interface MainExit {
  pid: number
  code: number | null
  signal: NodeJS.Signals | null
  at: number
  /** Exited while stop() asked it to (never restarted then). */
  stopping: boolean
}

export interface StopResult {
  code: number | null
  signal: NodeJS.Signals | null
  /** The main process outlived TimeoutStopSec= and got SIGKILL. */
  timedOut: boolean
  /** Processes of the unit that the manager had to kill after the main process exited. */
  killedLeftovers: Array<{ pid: number; command: string }>
}

const isClean = (e: MainExit) => (e.signal ? CLEAN_SIGNALS.has(e.signal) : e.code === 0)

function restarts(policy: Restart, e: MainExit): boolean {
  const clean = isClean(e)
  const uncleanSignal = e.signal !== null && !CLEAN_SIGNALS.has(e.signal)
  switch (policy) {
    case 'no':
      return false
    case 'always':
      return true
    case 'on-success':
      return clean
    case 'on-failure':
      return !clean
    case 'on-abnormal':
    case 'on-abort':
      return uncleanSignal
  }
}

/** The stand-in service manager for one unit (start, stop, reload, and restarts on its own). */
export class UnitRunner {
  readonly spec: ServiceSpec
  state: UnitState = 'inactive'
  /** The main process's pid while there is one ($MAINPID). */
  mainPid?: number
  /** Start times (ms) of the main process, the first start and every restart. */
  readonly starts: number[] = []
  readonly exits: MainExit[] = []
  /** Leftover processes killed after a main process exited, by that exit's index in exits. */
  readonly killedLeftovers: Array<Array<{ pid: number; command: string }>> = []
  private journalText = ''
  private main?: ChildProcess
  private mainExited?: Promise<MainExit>
  private readonly tree = new ProcessTree()
  private poller?: NodeJS.Timeout
  private restartTimer?: NodeJS.Timeout
  private cleanup: Promise<void> = Promise.resolve()

  constructor(
    readonly unitFile: string,
    private readonly opts: UnitRunnerOptions = {},
  ) {
    this.spec = parseUnit(readFileSync(unitFile, 'utf8'), basename(unitFile))
    for (const k of Object.keys(opts.environment ?? {})) {
      if (!(k in this.spec.environment)) throw new UnitError(`${this.spec.name} sets no Environment=${k}= to replace`)
    }
  }

  /** Everything the unit's processes wrote, and the manager's own lines (the journal, in systemd). */
  journal(): string {
    return this.journalText
  }

  /** Every process of the unit ever seen: pid@starttime → command line. */
  get processesSeen(): ReadonlyMap<string, string> {
    return this.tree.seen
  }

  private note(line: string) {
    this.journalText += `${this.spec.name}: ${line}\n`
  }

  private map(path: string): string {
    const prefixes = Object.keys(this.opts.paths ?? {}).sort((a, b) => b.length - a.length)
    for (const p of prefixes)
      if (path === p || path.startsWith(`${p}/`)) return this.opts.paths![p] + path.slice(p.length)
    return path
  }

  private env(): Record<string, string> {
    return {
      PATH: SYSTEMD_PATH,
      INVOCATION_ID: randomBytes(16).toString('hex'),
      ...this.spec.environment,
      ...this.opts.environment,
    }
  }

  /** systemd's expansion of a command line: ${VAR} inside a word, $VAR as words of its own. */
  private expand(words: string[], vars: Record<string, string>): string[] {
    const out: string[] = []
    for (const w of words) {
      const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(w)
      if (whole) out.push(...(vars[whole[1]] ?? '').split(/\s+/).filter(Boolean))
      else out.push(w.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, k: string) => vars[k] ?? ''))
    }
    return out.map((w) => this.map(w))
  }

  /** The hard limit of open files this process may give its children without CAP_SYS_RESOURCE. */
  private hardNoFile(): number {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'))
    const hard = line?.trim().split(/\s+/)[4]
    return hard === 'unlimited' ? Infinity : Number(hard)
  }

  /** `systemctl start`: spawns the main process (Type=simple: started once it runs). */
  async start(): Promise<void> {
    if (this.state === 'active' || this.state === 'deactivating') return
    clearTimeout(this.restartTimer)
    await this.cleanup
    const now = Date.now()
    if (this.starts.filter((t) => now - t < START_LIMIT_INTERVAL_MS).length >= START_LIMIT_BURST) {
      this.state = 'failed'
      this.note('Start request repeated too quickly. Failed with result start-limit-hit.')
      throw new UnitError(`${this.spec.name}: start-limit-hit`)
    }
    const cwd = this.spec.workingDirectory ? this.map(this.spec.workingDirectory) : '/'
    if (!existsSync(cwd)) {
      this.state = 'failed'
      this.note(`Changing to the requested working directory failed: ${cwd}; failed at step CHDIR`)
      throw new UnitError(`${this.spec.name}: WorkingDirectory ${cwd} does not exist`)
    }
    const env = this.env()
    let argv = this.expand(this.spec.execStart, env)
    if (this.spec.limitNoFile) {
      const max = this.hardNoFile()
      const { soft, hard } = this.spec.limitNoFile
      const [s, h] = [Math.min(soft, max), Math.min(hard, max)]
      if (h < hard)
        this.note(
          `LimitNOFILE=${soft}:${hard} capped at this machine's hard limit ${max} (raising it is not permitted here)`,
        )
      argv = ['/usr/bin/prlimit', `--nofile=${s}:${h}`, '--', ...argv]
    }
    // systemd starts the main process in a session of its own (setsid)
    const proc = spawn(argv[0], argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    proc.stdout!.on('data', (b) => (this.journalText += b))
    proc.stderr!.on('data', (b) => (this.journalText += b))
    this.main = proc
    this.mainPid = proc.pid
    this.starts.push(now)
    this.state = 'active'
    // one tree for the unit's life, as its control group: what KillMode=process left stays in it
    if (proc.pid) this.tree.add(proc.pid)
    this.poller ??= setInterval(() => this.tree.scan(), POLL_MS)
    this.note(`Started ${this.spec.description ?? this.spec.name} (main pid ${proc.pid}).`)
    this.mainExited = new Promise<MainExit>((resolve) => {
      let done = false
      const exited = (code: number | null, signal: NodeJS.Signals | null) => {
        if (done) return
        done = true
        resolve(
          this.onExit({ pid: proc.pid ?? 0, code, signal, at: Date.now(), stopping: this.state === 'deactivating' }),
        )
      }
      proc.once('error', (err) => {
        this.note(`failed to execute ${argv[0]}: ${err.message}`)
        exited(203, null) // systemd's EXIT_EXEC
      })
      proc.once('exit', exited)
    })
  }

  private onExit(e: MainExit): MainExit {
    this.exits.push(e)
    this.main = undefined
    this.mainPid = undefined
    this.note(`Main process exited, ${e.signal ? `code=killed, status=${e.signal}` : `code=exited, status=${e.code}`}`)
    if (!e.stopping) this.cleanup = this.afterUnexpectedExit(e)
    return e
  }

  /** The main process exited on its own: leftovers per KillMode, then Restart=. */
  private async afterUnexpectedExit(e: MainExit): Promise<void> {
    this.state = 'deactivating'
    this.killedLeftovers[this.exits.indexOf(e)] = await this.killLeftovers()
    if (restarts(this.spec.restart, e)) {
      this.state = 'auto-restart'
      this.note(`Scheduled restart job in ${this.spec.restartMs} ms.`)
      this.restartTimer = setTimeout(() => {
        if (this.state !== 'auto-restart') return
        this.start().catch((err: Error) => this.note(`restart failed: ${err.message}`))
      }, this.spec.restartMs)
    } else {
      this.state = isClean(e) ? 'inactive' : 'failed'
      this.stopPolling()
    }
  }

  /** After the main process exited: mixed → SIGKILL to the rest; control-group → KillSignal, SIGKILL after the timeout. */
  private async killLeftovers(): Promise<Array<{ pid: number; command: string }>> {
    if (this.spec.killMode === 'process') return []
    const left = this.tree.alive()
    if (!left.length) return []
    const killed = new Map(left.map((pid) => [pid, commandOf(pid)]))
    const gone = () => this.tree.alive().length === 0
    if (this.spec.killMode === 'control-group') {
      this.tree.signal(left, this.spec.killSignal)
      await waitFor("the unit's processes to exit", gone, { timeoutMs: this.spec.timeoutStopMs }).catch(() => undefined)
    }
    for (let round = 0; round < 50 && !gone(); round++) {
      // SIGKILL until the tree is empty: a process may fork between the scan and the signal
      const now = this.tree.alive()
      for (const pid of now) if (!killed.has(pid)) killed.set(pid, commandOf(pid))
      this.tree.signal(now, 'SIGKILL')
      await delay(20)
    }
    const list = [...killed].map(([pid, command]) => ({ pid, command }))
    this.note(`Killed what was left of the unit: ${list.map((k) => `${k.pid} (${k.command})`).join(', ')}`)
    return list
  }

  private stopPolling() {
    clearInterval(this.poller)
    this.poller = undefined
  }

  /** `systemctl reload`: runs ExecReload= with $MAINPID and waits for it; resolves with its exit code. */
  async reload(): Promise<number> {
    if (!this.spec.execReload) throw new UnitError(`${this.spec.name} has no ExecReload=`)
    if (this.state !== 'active' || !this.mainPid) throw new UnitError(`${this.spec.name} is not active`)
    const env = this.env()
    const argv = this.expand(this.spec.execReload, { ...env, MAINPID: String(this.mainPid) })
    const cwd = this.spec.workingDirectory ? this.map(this.spec.workingDirectory) : '/'
    return new Promise<number>((resolve) => {
      const p = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
      p.stdout!.on('data', (b) => (this.journalText += b))
      p.stderr!.on('data', (b) => (this.journalText += b))
      p.once('error', () => resolve(203))
      p.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)))
    })
  }

  /** `systemctl stop`: KillSignal= to the main process, SIGKILL after TimeoutStopSec=, then leftovers per KillMode=. */
  async stop(): Promise<StopResult | undefined> {
    await this.cleanup
    clearTimeout(this.restartTimer) // a restart the clean-up above may have scheduled
    if (this.state === 'auto-restart') this.state = 'inactive'
    const main = this.main
    const exited = this.mainExited
    if (!main || !exited || this.state !== 'active') {
      this.stopPolling()
      return undefined
    }
    this.state = 'deactivating'
    this.tree.scan()
    if (this.spec.killMode === 'control-group') this.tree.signal(this.tree.alive(), this.spec.killSignal)
    else main.kill(this.spec.killSignal)
    let timedOut = false
    const waiting = new AbortController()
    const timeout = Number.isFinite(this.spec.timeoutStopMs)
      ? delay(this.spec.timeoutStopMs, waiting.signal).then(
          () => 'timeout' as const,
          () => undefined,
        )
      : new Promise<never>(() => {})
    const first = await Promise.race([exited, timeout])
    waiting.abort()
    if (first === 'timeout') {
      timedOut = true
      this.note("State 'stop-sigterm' timed out. Killing.")
      if (this.spec.killMode === 'process') main.kill('SIGKILL')
      else this.tree.signal(this.tree.alive(), 'SIGKILL')
    }
    const e = await exited
    const killedLeftovers = await this.killLeftovers()
    this.killedLeftovers[this.exits.indexOf(e)] = killedLeftovers
    this.state = isClean(e) && !timedOut ? 'inactive' : 'failed'
    this.note(this.state === 'inactive' ? 'Deactivated successfully.' : 'Failed.')
    this.stopPolling()
    return { code: e.code, signal: e.signal, timedOut, killedLeftovers }
  }
}
