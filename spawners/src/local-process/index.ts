// local-process: each server is a process on this machine, in its own process group,
// detached from the hub so that it outlives a hub restart.
import { spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { freePort } from '../../../control-plane/src/util/ports'
import type { ServerStatus, SpawnRequest, Spawner, SpawnerLogger, SpawnerState } from '../spawner'

export interface LocalProcessOptions {
  command: string[]
  args?: string[]
  notebookDir: string // may hold {data_dir} and {user}
  env: Record<string, string>
  ip: string
  dataDir: string
  log: SpawnerLogger
}

function defaultArgs(command: string[]): string[] {
  // jupyterhub-singleuser runs on whichever of notebook (NotebookApp) or jupyter_server (ServerApp)
  // is installed, and ignores the other's flags: give it both.
  const singleuser = command.some((c) => c.endsWith('jupyterhub-singleuser'))
  const notebook = command.some((c) => c === 'notebook' || c.endsWith('jupyter-notebook'))
  const apps = singleuser ? ['NotebookApp', 'ServerApp'] : [notebook ? 'NotebookApp' : 'ServerApp']
  return [
    '--no-browser',
    '--ip={ip}',
    '--port={port}',
    '--notebook-dir={notebook_dir}',
    ...apps.flatMap((app) => [`--${app}.base_url={base_url}`, `--${app}.allow_remote_access=True`]),
    // Jupyter refuses to run as root unless told; the hub runs servers as its own user here.
    ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
  ]
}

const fill = (s: string, vars: Record<string, string>) => s.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m)

/** Field 22 of /proc/PID/stat (start time in clock ticks) and the process state; undefined when gone. */
function procStat(pid: number): { startTime: string; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { state: rest[0], startTime: rest[19] }
  } catch {
    return undefined
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    /* already gone */
  }
}

/** Signals the process group led by pid, if that group still exists. */
function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, 0)
  } catch {
    return
  }
  signal(-pid, sig)
}

/** pid -> parent pid of every process, from /proc. */
function parents(): Map<number, number> {
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

/** The environment of pid (readable for our own processes, or as root); undefined when gone. */
function environ(pid: number): Map<string, string> | undefined {
  try {
    const env = new Map<string, string>()
    for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const i = kv.indexOf('=')
      if (i > 0) env.set(kv.slice(0, i), kv.slice(i + 1))
    }
    return env
  } catch {
    return undefined
  }
}

/**
 * Processes whose environment carries EDGEHUB_HUB_ID=hubId and whose parent does not: the servers
 * themselves, not their kernels (which inherit the environment).
 */
function markedRoots(hubId: string): Array<{ pid: number; env: Map<string, string> }> {
  const ppids = parents()
  const marked = new Map<number, Map<string, string>>()
  for (const pid of ppids.keys()) {
    const env = environ(pid)
    if (env?.get('EDGEHUB_HUB_ID') === hubId) marked.set(pid, env)
  }
  return [...marked].filter(([pid]) => !marked.has(ppids.get(pid) ?? 0)).map(([pid, env]) => ({ pid, env }))
}

/** Every live descendant of pid, from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const [child, ppid] of parents()) children.set(ppid, [...(children.get(ppid) ?? []), child])
  const out: number[] = []
  const walk = (p: number) => (children.get(p) ?? []).forEach((c) => (out.push(c), walk(c)))
  walk(pid)
  return out
}

/** The process state names ({pid, startTime}) is still that same process, not a reused pid. */
export function alive(state: SpawnerState): boolean {
  const pid = Number(state.pid)
  const st = pid > 0 ? procStat(pid) : undefined
  return !!st && st.state !== 'Z' && st.startTime === state.startTime
}

/** SIGTERM to the process group, SIGKILL after graceMs to whatever of its tree is left. */
export async function stopTree(state: SpawnerState, graceMs: number): Promise<void> {
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
  const fd = openSync(opts.logFile, 'a')
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

export function createLocalProcessSpawner(opts: LocalProcessOptions): Spawner {
  const listeners: Array<(s: SpawnerState) => void> = []
  return {
    async start(req: SpawnRequest, signal: AbortSignal): Promise<SpawnerState> {
      signal.throwIfAborted()
      const port = await freePort(opts.ip)
      const notebookDir = fill(opts.notebookDir, { data_dir: opts.dataDir, user: req.user })
      mkdirSync(notebookDir, { recursive: true })
      const vars = { ip: opts.ip, port: String(port), base_url: req.baseUrl, notebook_dir: notebookDir, user: req.user, server: req.server, data_dir: opts.dataDir }
      const [cmd, ...cmdArgs] = opts.command
      const args = [...cmdArgs, ...(opts.args ?? defaultArgs(opts.command)).map((a) => fill(a, vars))]
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: notebookDir, LANG: process.env.LANG ?? 'C.UTF-8', ...opts.env, ...req.env }
      const p = await startDetached(cmd, args, { cwd: notebookDir, env, logFile: req.logFile })
      const pid = p.pid
      const state: SpawnerState = { pid, startTime: p.startTime, ip: opts.ip, port, baseUrl: req.baseUrl }
      void p.exited.then(() => listeners.forEach((l) => l(state)))
      opts.log.info('started server process', { user: req.user, server: req.server, pid, port })
      return state
    },

    async poll(state: SpawnerState): Promise<ServerStatus> {
      if (!alive(state)) return { phase: 'stopped', reason: 'process exited' }
      const target = `${state.ip}:${state.port}`
      return { phase: 'running', target, url: `http://${target}${state.baseUrl}` }
    },

    async stop(state: SpawnerState, { graceMs = 10_000 } = {}): Promise<void> {
      await stopTree(state, graceMs)
    },

    async list(hubId: string) {
      const out = []
      for (const { pid, env } of markedRoots(hubId)) {
        const st = procStat(pid)
        if (!st || st.state === 'Z') continue
        out.push({ user: env.get('JUPYTERHUB_USER') ?? '', server: env.get('JUPYTERHUB_SERVER_NAME') ?? '', state: { pid, startTime: st.startTime } })
      }
      return out
    },

    onExit(listener) {
      listeners.push(listener)
    },
  }
}
