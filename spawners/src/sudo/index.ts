// sudo: an unprivileged hub starts each server as the user's own Unix account through
// `sudo -u ACCOUNT -n MEDIATOR` (JupyterHub's SudoSpawner). The mediator (edgehub-sudo-mediator)
// starts, polls and signals servers and nothing else; what it may start is in its own root-owned
// configuration, not in the hub's hands. State: the server's pid and start time, its address, and the
// account, so that any replica can poll and stop it.
import { accountName, checkAccount, lookupAccount, AccountProblem } from '../local-process/accounts'
import { defaultArgs, fill } from '../local-process/args'
import { pickPort } from '../local-process/ports'
import { jupyterhubEnv } from '../jupyterhub-env'
import { formatDefaultUrl } from '../default-url'
import type { ServerStatus, SpawnRequest, Spawner, SpawnerLogger, SpawnerState } from '../spawner'
import { callMediator, type MediatorRequest } from './mediator'
import type { SudoSettings } from './settings'

export interface SudoSpawnerOptions extends SudoSettings {
  defaultUrl?: string
  log: SpawnerLogger
  /** The words that run sudo: ['sudo'] unless a test runs it as its unprivileged hub account. */
  sudo?: string[]
}

export function createSudoSpawner(opts: SudoSpawnerOptions): Spawner {
  /** Ports handed to servers this process started, until they are seen stopped (a server binds its port a moment after it starts). */
  const reserved = new Set<number>()
  const timeoutMs = opts.mediatorTimeoutSeconds * 1000
  const call = (account: string, req: MediatorRequest, logFile?: string) =>
    callMediator({ sudo: opts.sudo ?? ['sudo'], mediator: opts.mediator, account, timeoutMs, logFile }, req)
  const running = async (state: SpawnerState): Promise<boolean> =>
    (await call(String(state.account), { op: 'poll', pid: Number(state.pid), startTime: String(state.startTime) }))
      .running === true
  const signal = async (state: SpawnerState, sig: 'SIGTERM' | 'SIGKILL'): Promise<boolean> =>
    (
      await call(String(state.account), {
        op: 'kill',
        pid: Number(state.pid),
        startTime: String(state.startTime),
        signal: sig,
      })
    ).running === true

  const spawner: Spawner = {
    instanceKey: (state) => `${state.account}:${state.pid}@${state.startTime}`,

    async start(req: SpawnRequest, abort: AbortSignal): Promise<SpawnerState> {
      abort.throwIfAborted()
      const name = accountName(req.user, opts.userPrefix)
      const account = await lookupAccount(name)
      if (!account)
        throw new AccountProblem(
          `there is no Unix account ${name} for this user's server; an administrator creates it (useradd --create-home ${name}) and adds it to the group the sudoers rule names`,
        )
      checkAccount(account)
      const port = await pickPort(opts.ip, opts.portRange, reserved)
      try {
        abort.throwIfAborted()
        const defaultUrl = opts.defaultUrl ? formatDefaultUrl(opts.defaultUrl, req.user) : ''
        const vars = {
          ip: opts.ip,
          notebook_dir: account.home,
          port: String(port),
          base_url: req.baseUrl,
          user: req.user,
          server: req.server,
          default_url: defaultUrl,
        }
        const args = opts.args ?? defaultArgs(opts.command, { defaultUrl: !!defaultUrl })
        const argv = [...opts.command, ...args.map((a) => fill(a, vars))]
        const place = {
          user: req.user,
          server: req.server,
          baseUrl: req.baseUrl,
          ip: opts.ip,
          port,
          defaultUrl: opts.defaultUrl,
        }
        const env = { ...opts.env, ...jupyterhubEnv(req.env, place) }
        req.progress(`Starting the server as ${account.name} through sudo`)
        const got = await call(account.name, { op: 'spawn', argv, env }, req.logFile)
        const state: SpawnerState = {
          account: account.name,
          pid: Number(got.pid),
          startTime: String(got.startTime),
          ip: opts.ip,
          port,
          baseUrl: req.baseUrl,
        }
        if (abort.aborted) {
          // the start was given up while sudo ran: nothing of it may be left running
          await spawner.stop(state, { graceMs: 1_000 })
          abort.throwIfAborted()
        }
        opts.log.info('started server process through sudo', {
          user: req.user,
          server: req.server,
          account: account.name,
          pid: state.pid,
          port,
        })
        return state
      } catch (err) {
        reserved.delete(port)
        throw err
      }
    },

    async poll(state: SpawnerState): Promise<ServerStatus> {
      if (!(await running(state))) {
        reserved.delete(Number(state.port))
        return { phase: 'stopped', reason: 'process exited' }
      }
      const target = `${state.ip}:${state.port}`
      return { phase: 'running', target, url: `http://${target}${state.baseUrl}` }
    },

    async stop(state: SpawnerState, { graceMs = 10_000 } = {}): Promise<void> {
      await stopProcess(state, graceMs)
      reserved.delete(Number(state.port))
    },
  }

  /** SIGTERM to the server and its process group, SIGKILL once graceMs has passed; returns when it is gone. */
  async function stopProcess(state: SpawnerState, graceMs: number): Promise<void> {
    if (!(await signal(state, 'SIGTERM'))) return
    const deadline = Date.now() + graceMs
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
      if (!(await running(state))) return
    }
    const end = Date.now() + 10_000
    while (await signal(state, 'SIGKILL')) {
      if (Date.now() > end) throw new Error(`server process ${state.pid} of ${state.account} outlived SIGKILL`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  return spawner
}
