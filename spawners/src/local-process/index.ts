// local-process: each server is a process on this machine, in its own process group,
// detached from the hub so that it outlives a hub restart. A hub running as root runs each server as
// the user's own Unix account (run-as.ts, accounts.ts), never as root.
import { fork, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pickPort, type PortRange } from './ports'
import { accountName, DEFAULT_USER_PREFIX, ensureAccount, lookupAccount, type Account } from './accounts'
import { commandAs, perUserAccounts, serverProcessEnv } from './run-as'
import { defaultArgs, fill } from './args'
import { jupyterhubEnv } from '../jupyterhub-env'
import { formatDefaultUrl } from '../default-url'
import type { ServerStatus, SpawnRequest, Spawner, SpawnerLogger, SpawnerState } from '../spawner'
import { chooseProfile, profileForm, profileOverrides, type Profile } from '../profiles'
import { alive, parents, procStat, stopTree } from '../../../runtime/src/process-tree'

export interface LocalProcessOptions {
  command: string[]
  /** Unset: defaultArgs (none for jupyterhub-singleuser); [] is no flags at all, as in JupyterHub. */
  args?: string[]
  /** May hold {data_dir} and {user}; default: the account's home (per-user accounts), else {data_dir}/home/{user}. */
  notebookDir?: string
  /** Hub as root: make a missing account on first spawn (useradd). */
  createUsers?: boolean
  /** Hub as root: the account of hub user NAME is userPrefix + NAME (accountName). */
  userPrefix?: string
  /** JupyterHub's Spawner.default_url (spawner.defaultUrl): JUPYTERHUB_DEFAULT_URL, and a flag in the default args of other commands. */
  defaultUrl?: string
  env: Record<string, string>
  ip: string
  /** Ports servers listen on, lowest and highest (spawner.local-process.portRange). */
  portRange: PortRange
  /** spawner.local-process.profiles: the spawn page's choices. */
  profiles?: Profile<{ command?: string[]; args?: string[]; env?: Record<string, string> }>[]
  dataDir: string
  log: SpawnerLogger
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

/** The real uid of pid; undefined when gone. */
function uidOf(pid: number): number | undefined {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : undefined
  } catch {
    return undefined
  }
}

/**
 * Processes whose environment carries EDGEHUB_HUB_ID=hubId and whose parent's does not: the servers
 * themselves, not their kernels (which inherit the environment). Without root, only this Unix user's
 * processes are looked at (the only environments readable); as root, every process, and the caller
 * checks whose each one is.
 */
function markedRoots(hubId: string): Array<{ pid: number; uid: number; env: Map<string, string> }> {
  const ppids = parents()
  const marked = new Map<number, { uid: number; env: Map<string, string> }>()
  const me = process.getuid?.()
  for (const pid of ppids.keys()) {
    const uid = uidOf(pid)
    if (uid === undefined || (me !== 0 && me !== undefined && uid !== me)) continue
    const env = environ(pid)
    if (env?.get('EDGEHUB_HUB_ID') === hubId) marked.set(pid, { uid, env })
  }
  return [...marked].filter(([pid]) => !marked.has(ppids.get(pid) ?? 0)).map(([pid, m]) => ({ pid, ...m }))
}

const LAUNCHER = fileURLToPath(new URL('./launcher.mjs', import.meta.url))

interface LaunchRequest {
  cmd: string
  args: string[]
  cwd: string
  env: Record<string, string>
  logFile: string
}

/**
 * The hub's side of launcher.mjs: forked on first use, again if it ever dies. Its IPC channel holds
 * the hub's event loop open only while a start is waiting for its answer.
 */
class Launcher {
  private child?: ChildProcess
  private nextId = 1
  private readonly waiting = new Map<
    number,
    { resolve: (v: { pid: number; startTime: string }) => void; reject: (err: Error) => void }
  >()

  constructor(private readonly onExited: (pid: number) => void) {}

  start(req: LaunchRequest): Promise<{ pid: number; startTime: string }> {
    const child = this.child ?? this.fork()
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      child.channel?.ref()
      child.send(
        { id, ...req },
        (err) => err && this.settle(id, { error: `failed to reach the launcher: ${err.message}` }),
      )
    })
  }

  private fork(): ChildProcess {
    const env = { ...process.env }
    delete env.NODE_OPTIONS // no loaders or flags of the hub's: the launcher is plain JavaScript and stays small
    const child = fork(LAUNCHER, [], {
      execArgv: [],
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    })
    child.on('message', (m: { id?: number; pid?: number; startTime?: string; error?: string; exited?: number }) => {
      // after the start's own continuation has recorded the pid (a server that exits at once)
      if (m.exited !== undefined) setImmediate(this.onExited, m.exited)
      else if (m.id !== undefined) this.settle(m.id, m)
    })
    const gone = (why: string) => {
      if (this.child !== child) return
      this.child = undefined
      for (const id of [...this.waiting.keys()]) this.settle(id, { error: `the launcher ${why}` })
    }
    child.on('exit', (code, sig) => gone(`exited (${sig ?? code})`))
    child.on('error', (err) => gone(`failed: ${err.message}`))
    child.unref()
    child.channel?.unref()
    this.child = child
    return child
  }

  private settle(id: number, m: { pid?: number; startTime?: string; error?: string }): void {
    const w = this.waiting.get(id)
    if (!w) return
    this.waiting.delete(id)
    if (!this.waiting.size) this.child?.channel?.unref()
    if (m.error || !m.pid) w.reject(new Error(m.error ?? 'the launcher gave no pid'))
    else w.resolve({ pid: m.pid, startTime: m.startTime ?? '' })
  }
}

export function createLocalProcessSpawner(opts: LocalProcessOptions): Spawner {
  const listeners: Array<(s: SpawnerState) => void> = []
  /** Servers started by this process and not yet seen exiting, by pid. */
  const started = new Map<number, SpawnerState>()
  /**
   * Ports handed to servers this process started, until they exit. The OS only knows a port is taken
   * once the server has bound it; until then (milliseconds for some servers, seconds for others, and
   * longer when many start at once) it would give the same free port to the next start as well.
   */
  const reserved = new Set<number>()
  const perUser = perUserAccounts()
  const prefix = opts.userPrefix ?? DEFAULT_USER_PREFIX
  if (perUser) warnIfDataDirOpen(opts.dataDir, opts.log)
  /** The account user's servers run as (hub as root), made first when allowed; undefined without root. */
  const accountOf = async (user: string): Promise<Account | undefined> =>
    perUser ? ensureAccount(accountName(user, prefix), { create: opts.createUsers ?? true }) : undefined
  const launcher = new Launcher((pid) => {
    const state = started.get(pid)
    if (!state) return
    started.delete(pid)
    reserved.delete(Number(state.port))
    listeners.forEach((l) => l(state))
  })
  const profiles = opts.profiles ?? []
  return {
    instanceKey: (state) => `${state.pid}@${state.startTime}`,
    optionsForm: (user) => profileForm(profiles, user),
    checkOptions: (user, options) => chooseProfile(profiles, user, options).options,

    async start(req: SpawnRequest, signal: AbortSignal): Promise<SpawnerState> {
      signal.throwIfAborted()
      const chosen = profileOverrides(profiles, req.options)
      const command = chosen.command ?? opts.command
      const account = await accountOf(req.user)
      signal.throwIfAborted()
      const notebookDir = notebookDirOf(opts, req.user, account)
      const port = await pickPort(opts.ip, opts.portRange, reserved)
      const defaultUrl = opts.defaultUrl ? formatDefaultUrl(opts.defaultUrl, req.user) : ''
      const vars = {
        ip: opts.ip,
        port: String(port),
        base_url: req.baseUrl,
        notebook_dir: notebookDir,
        user: req.user,
        server: req.server,
        data_dir: opts.dataDir,
        default_url: defaultUrl,
      }
      const [serverCmd, ...cmdArgs] = command
      const serverArgs =
        chosen.args ?? (chosen.command ? undefined : opts.args) ?? defaultArgs(command, { defaultUrl: !!defaultUrl })
      const { cmd, args } = commandAs(account, serverCmd, [...cmdArgs, ...serverArgs.map((a) => fill(a, vars))])
      // the root directory only when the operator chose one (JupyterHub's notebook_dir): else the
      // server serves its working directory, which a wrapper may have changed
      const place = {
        user: req.user,
        server: req.server,
        baseUrl: req.baseUrl,
        ip: opts.ip,
        port,
        rootDir: opts.notebookDir ? notebookDir : undefined,
        defaultUrl: opts.defaultUrl,
      }
      const env = serverProcessEnv({
        account,
        home: notebookDir,
        configured: { ...opts.env, ...chosen.env },
        forServer: jupyterhubEnv(req.env, place),
      })
      const { pid, startTime } = await launcher
        .start({ cmd, args, cwd: notebookDir, env, logFile: req.logFile })
        .catch((err: unknown) => {
          reserved.delete(port)
          throw err
        })
      const state: SpawnerState = { pid, startTime, ip: opts.ip, port, baseUrl: req.baseUrl }
      started.set(pid, state)
      opts.log.info('started server process', {
        user: req.user,
        server: req.server,
        pid,
        port,
        ...(account ? { account: account.name, uid: account.uid } : {}),
      })
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
      const uids = new Map<string, number | undefined>()
      for (const { pid, uid, env } of markedRoots(hubId)) {
        const user = env.get('JUPYTERHUB_USER') ?? ''
        // As root, a server is a process of its user's own account: another user's process that
        // copies the mark (and names someone else) is never taken for that someone's server.
        if (perUser) {
          if (!uids.has(user)) uids.set(user, await accountUid(user, prefix))
          if (uid === 0 || uids.get(user) !== uid) continue
        }
        const st = procStat(pid)
        if (!st || st.state === 'Z') continue
        out.push({ user, server: env.get('JUPYTERHUB_SERVER_NAME') ?? '', state: { pid, startTime: st.startTime } })
      }
      return out
    },

    onExit(listener) {
      listeners.push(listener)
    },
  }
}

/** The uid of hub user `user`'s account, undefined when it has none (or the name is unusable). */
async function accountUid(user: string, prefix: string): Promise<number | undefined> {
  try {
    return (await lookupAccount(accountName(user, prefix)))?.uid
  } catch {
    return undefined
  }
}

/**
 * The server's working directory: notebookDir when set (created when missing, owned by the account
 * and closed to others when there is one), else the account's home, or {data_dir}/home/{user}.
 */
function notebookDirOf(opts: LocalProcessOptions, user: string, account: Account | undefined): string {
  if (!opts.notebookDir && account) return account.home
  const dir = fill(opts.notebookDir ?? '{data_dir}/home/{user}', { data_dir: opts.dataDir, user })
  if (account && !existsSync(dir)) {
    mkdirSync(dirname(dir), { recursive: true }) // parents as any directory is made: the account passes through
    mkdirSync(dir, { mode: 0o700 })
    chownSync(dir, account.uid, account.gid)
  } else mkdirSync(dir, { recursive: true })
  return dir
}

/** Users' servers must not reach the hub's data (Redis files, keys, logs): says so when they could. */
function warnIfDataDirOpen(dataDir: string, log: SpawnerLogger): void {
  try {
    const mode = statSync(dataDir).mode & 0o777
    if (mode & 0o077)
      log.warn("the data directory is open to other users; users' servers could read it: chmod 700 it", {
        dataDir,
        mode: mode.toString(8),
      })
  } catch {
    /* not made yet */
  }
}
