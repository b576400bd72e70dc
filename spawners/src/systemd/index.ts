// systemd: each server is a transient service unit (systemd-run), as The Littlest JupyterHub's
// SystemdSpawner does: resource limits and sandboxing are the unit's properties, stop is
// `systemctl stop`, the state is the unit's name and invocation id (kept in Redis by the hub, so any
// replica polls and stops it), and the unit's journal is shown on the spawn-pending page. Needs a hub
// running as root on a machine whose PID 1 is systemd.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { accountName, ensureAccount } from '../local-process/accounts'
import { defaultArgs, fill } from '../local-process/args'
import { pickPort } from '../local-process/ports'
import { loginPath } from '../local-process/accounts'
import { jupyterhubEnv } from '../jupyterhub-env'
import { formatDefaultUrl } from '../default-url'
import type { ServerStatus, SpawnRequest, Spawner, SpawnerLogger, SpawnerState } from '../spawner'
import { realCommands, type SystemdCommands } from './commands'
import type { SystemdSettings } from './settings'
import { parseShow, SHOW_PROPERTIES, unitStatus } from './show'
import { environmentFile, systemdRunArgs, unitName, workingDirectory } from './unit'

export interface SystemdSpawnerOptions {
  settings: SystemdSettings
  dataDir: string
  defaultUrl?: string
  log: SpawnerLogger
  /** How programs are run: the real ones unless a test records them. */
  commands?: SystemdCommands
  /** Account lookup (and creation): ensureAccount unless a test gives accounts of its own. */
  account?: (name: string, opts: { create: boolean }) => Promise<{ name: string; home: string }>
}

export function createSystemdSpawner(opts: SystemdSpawnerOptions): Spawner {
  const s = opts.settings
  const cmd = opts.commands ?? realCommands(s.commandTimeoutSeconds * 1000)
  const account = opts.account ?? ensureAccount
  /** Ports handed to servers this process started, until they are seen stopped (a server binds its port a moment after it starts). */
  const reserved = new Set<number>()
  const envDir = join(opts.dataDir, 'systemd-units')
  const envFileOf = (unit: string) => join(envDir, `${unit}.env`)
  const show = async (unit: string) =>
    parseShow(await cmd.run('systemctl', ['show', unit, `--property=${SHOW_PROPERTIES.join(',')}`, '--no-pager']))
  const statusOf = async (state: SpawnerState): Promise<ServerStatus> =>
    unitStatus(await show(String(state.unit)), String(state.invocationId), {
      ip: String(state.ip),
      port: Number(state.port),
      baseUrl: String(state.baseUrl),
    })
  const ignore = (p: Promise<unknown>) => p.catch(() => undefined)

  /** New lines of the unit's journal to the spawn-pending page, for a bounded time after the start. */
  const showJournal = (unit: string, invocationId: string, progress: (m: string) => void) => {
    if (!s.journalLines || !s.journalFollowSeconds) return
    let shown = 0
    const stop = cmd.follow(
      'journalctl',
      [
        '-u',
        unit,
        `_SYSTEMD_INVOCATION_ID=${invocationId}`,
        '-o',
        'cat',
        '-n',
        String(s.journalLines),
        '-f',
        '--no-pager',
      ],
      (line) => {
        if (shown++ < s.journalLines) progress(line.slice(0, 500))
        else stop()
      },
    )
    setTimeout(stop, s.journalFollowSeconds * 1000).unref()
  }

  const spawner: Spawner = {
    instanceKey: (state) => `${state.unit}@${state.invocationId}`,

    async start(req: SpawnRequest, abort: AbortSignal): Promise<SpawnerState> {
      abort.throwIfAborted()
      if (process.getuid?.() !== 0 && !opts.commands)
        throw new Error('the systemd spawner needs a hub running as root (systemd-run of system units)')
      const unit = unitName(s.unitPrefix, req.user, req.server)
      const acct = s.dynamicUsers
        ? undefined
        : await account(accountName(req.user, s.userPrefix), { create: s.createUsers })
      abort.throwIfAborted()
      const port = await pickPort(s.ip, s.portRange, reserved)
      const envFile = envFileOf(unit)
      try {
        const defaultUrl = opts.defaultUrl ? formatDefaultUrl(opts.defaultUrl, req.user) : ''
        const vars = {
          ip: s.ip,
          notebook_dir: workingDirectory({ unit, account: acct }),
          port: String(port),
          base_url: req.baseUrl,
          user: req.user,
          server: req.server,
          default_url: defaultUrl,
        }
        const argv = [
          ...s.command,
          ...(s.args ?? defaultArgs(s.command, { defaultUrl: !!defaultUrl })).map((a) => fill(a, vars)),
        ]
        const place = {
          user: req.user,
          server: req.server,
          baseUrl: req.baseUrl,
          ip: s.ip,
          port,
          defaultUrl: opts.defaultUrl,
        }
        // systemd sets USER, LOGNAME, HOME and SHELL from User=; the rest is the server's own
        const env = {
          PATH: loginPath(),
          LANG: process.env.LANG ?? 'C.UTF-8',
          ...s.env,
          ...jupyterhubEnv(req.env, place),
        }
        mkdirSync(envDir, { recursive: true, mode: 0o700 })
        writeFileSync(envFile, environmentFile(env), { mode: 0o600 })
        const spec = { unit, account: acct, envFile, argv }
        // a unit of this name that failed earlier is kept by systemd until reset
        await ignore(cmd.run('systemctl', ['reset-failed', unit]))
        req.progress(
          `Starting unit ${unit}${acct ? ` as ${acct.name}` : ' as a dynamic user'} in ${workingDirectory(spec)}`,
        )
        await cmd.run('systemd-run', systemdRunArgs(s, spec))
        const invocationId = (await show(unit)).get('InvocationID') ?? ''
        const state: SpawnerState = { unit, invocationId, ip: s.ip, port, baseUrl: req.baseUrl }
        if (abort.aborted) {
          await spawner.stop(state, { graceMs: 1_000 })
          abort.throwIfAborted()
        }
        showJournal(unit, invocationId, req.progress)
        opts.log.info('started server unit', { user: req.user, server: req.server, unit, port })
        return state
      } catch (err) {
        reserved.delete(port)
        rmSync(envFile, { force: true })
        throw err
      }
    },

    async poll(state) {
      const status = await statusOf(state)
      if (status.phase === 'stopped') reserved.delete(Number(state.port))
      return status
    },

    async stop(state: SpawnerState, { graceMs = 10_000 } = {}): Promise<void> {
      const unit = String(state.unit)
      if ((await statusOf(state)).phase !== 'stopped') {
        await cmd.run('systemctl', ['kill', '--kill-whom=all', '--signal=SIGTERM', unit])
        const deadline = Date.now() + graceMs
        while ((await statusOf(state)).phase !== 'stopped' && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 200))
        if ((await statusOf(state)).phase !== 'stopped')
          await ignore(cmd.run('systemctl', ['kill', '--kill-whom=all', '--signal=SIGKILL', unit]))
        await cmd.run('systemctl', ['stop', unit])
      }
      await ignore(cmd.run('systemctl', ['reset-failed', unit]))
      rmSync(envFileOf(unit), { force: true })
      reserved.delete(Number(state.port))
    },
  }
  return spawner
}
