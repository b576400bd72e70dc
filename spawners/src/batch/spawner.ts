// The batch base: a server is a job of a batch scheduler. start() submits the job script (as the
// user's own account when the hub runs as root) and waits while the job is queued, reporting its
// place in the queue through the progress sink, until it runs; the job then reports its port to the
// hub (POST /hub/api/batchspawner), and poll() gives the node's address and that port. The state is
// the job id (with the owner, the server and a digest of the server's token): a hub restarted, or
// another replica, polls and stops the same job. A job that ends on its own (its walltime, a node
// failure) polls as stopped with the scheduler's reason.
import { appendFileSync, existsSync } from 'node:fs'
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { homedir, userInfo } from 'node:os'
import { accountName, ensureAccount, lookupAccount, type Account } from '../local-process/accounts'
import { commandAs, perUserAccounts, serverProcessEnv } from '../local-process/run-as'
import { jupyterhubEnv } from '../jupyterhub-env'
import { chooseProfile, profileForm, profileOverrides } from '../profiles'
import type { SpawnerContext } from '../plugin'
import type { ServerStatus, SpawnRequest, Spawner, SpawnerState } from '../spawner'
import { tokenDigest } from '../server-reports'
import { delay, waitFor } from '../../../runtime/src/wait'
import { fillCommand, runCommand } from './commands'
import {
  hms,
  type CommandLine,
  type CommandOutput,
  type JobEnd,
  type JobState,
  type SchedulerDefinition,
} from './scheduler'
import type { BatchProfileOverrides, BatchSettings } from './settings'
import { fillTemplate, runStep } from './template'

/** Hex digits of the token digest kept in the state and in the job's comment (128 bits). */
const REPORT_KEY_DIGITS = 32
/** A job's state is asked of the scheduler at most this often by polls (starts and stops ask afresh). */
const QUERY_CACHE_MS = 500
/** Longest wait after a cancel for the scheduler to end the job, past the grace period. */
const STOP_MARGIN_MS = 60_000
/** Most node addresses remembered. */
const MAX_NODES = 10_000

const END_TEXT: Record<JobEnd, string> = {
  completed: 'ended',
  failed: 'failed',
  cancelled: 'was cancelled',
  timeout: 'reached its time limit (walltime)',
  node_fail: 'ended because its compute node failed',
  out_of_memory: 'ran out of memory',
  preempted: 'was preempted',
}

/** Why a job that is no longer queued or running stopped, for the hub's stop reason. */
export function endReason(name: string, jobId: string, s: JobState): string {
  if (s.phase === 'ended') return `${name} job ${jobId} ${END_TEXT[s.end]}${s.detail ? ` (${s.detail})` : ''}`
  if (s.phase === 'ending') return `${name} job ${jobId} is ending`
  return `${name} job ${jobId} is no longer known to ${name}`
}

/** The server's URL path, as the hub makes it. */
const baseUrlOf = (user: string, server: string) =>
  `/user/${encodeURIComponent(user)}/${server ? `${encodeURIComponent(server)}/` : ''}`

/** The job's comment: how list(hubId) finds the jobs of a hub, and whose each one is. */
const COMMENT_MARK = 'edgehub'
export function jobComment(hubId: string, user: string, server: string, reportKey: string): string {
  return [
    COMMENT_MARK,
    encodeURIComponent(hubId),
    encodeURIComponent(user),
    encodeURIComponent(server),
    reportKey,
  ].join(':')
}
export function parseJobComment(
  comment: string,
): { hubId: string; user: string; server: string; reportKey: string } | undefined {
  const parts = comment.trim().split(':')
  if (parts.length !== 5 || parts[0] !== COMMENT_MARK) return undefined
  try {
    const [, hubId, user, server, reportKey] = parts
    return {
      hubId: decodeURIComponent(hubId),
      user: decodeURIComponent(user),
      server: decodeURIComponent(server),
      reportKey,
    }
  } catch {
    return undefined
  }
}

/** A job name schedulers take: edgehub-USER[-SERVER], characters other than A-Z a-z 0-9 _ . - as _. */
export const jobName = (user: string, server: string) =>
  `edgehub-${user}${server ? `-${server}` : ''}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64)

export interface BatchSpawnerOptions {
  kind: string
  scheduler: SchedulerDefinition
  settings: BatchSettings
  ctx: SpawnerContext
}

export function createBatchSpawner({ kind, scheduler, settings, ctx }: BatchSpawnerOptions): Spawner {
  const perUser = perUserAccounts()
  const profiles = settings.profiles
  const queries = new Map<string, { at: number; state: Promise<JobState> }>()
  const nodes = new Map<string, string>()
  const timeoutMs = settings.commandTimeoutSec * 1000

  /** The environment of the scheduler's commands run by the hub itself. */
  const commandEnv = (): Record<string, string> => ({
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    ...settings.commandEnv,
  })
  const run = (line: CommandLine, vars: Record<string, string>) => {
    const { cmd, args } = fillCommand(line, vars)
    return runCommand(cmd, args, { env: commandEnv(), timeoutMs })
  }

  const accountOf = async (user: string): Promise<Account | undefined> =>
    perUser ? ensureAccount(accountName(user, settings.userPrefix), { create: settings.createUsers }) : undefined

  /** The job's state, asked afresh; a job the queue forgot is looked up in the history when there is one. */
  async function queryNow(jobId: string): Promise<JobState> {
    const s = scheduler.parseQuery(await run(scheduler.query, { job_id: jobId }), jobId)
    if (s.phase !== 'gone' || !scheduler.history) return s
    return scheduler.history.parse(await run(scheduler.history.command, { job_id: jobId }))
  }
  function query(jobId: string, fresh = false): Promise<JobState> {
    const cached = queries.get(jobId)
    if (!fresh && cached && Date.now() - cached.at < QUERY_CACHE_MS) return cached.state
    const state = queryNow(jobId)
    queries.set(jobId, { at: Date.now(), state })
    state.catch(() => queries.delete(jobId))
    // bounded: entries of jobs no longer polled go once they are stale
    if (queries.size > 1000) for (const [k, v] of queries) if (Date.now() - v.at > QUERY_CACHE_MS) queries.delete(k)
    return state
  }

  /** The address the proxy reaches `node` at: nodeAddresses, the scheduler's own (NodeAddr), else DNS. */
  async function addressOf(node: string): Promise<string> {
    const known = settings.nodeAddresses[node] ?? nodes.get(node)
    if (known) return known
    let name = node
    if (scheduler.nodeAddress) {
      const out = await run(scheduler.nodeAddress.command, { node })
      if (out.code === 0) name = scheduler.nodeAddress.parse(out.stdout) ?? node
    }
    const address = isIP(name) ? name : (await lookup(name)).address
    if (nodes.size >= MAX_NODES) nodes.clear()
    nodes.set(node, address)
    return address
  }

  async function positionText(jobId: string): Promise<string> {
    if (!scheduler.queuePosition) return ''
    const out = await run(scheduler.queuePosition.command, { job_id: jobId })
    const p = out.code === 0 ? scheduler.queuePosition.parse(out.stdout, jobId) : undefined
    return p ? `, position ${p.position} of ${p.of} in the queue` : ''
  }

  async function cancel(jobId: string): Promise<void> {
    queries.delete(jobId)
    // a job that already ended makes the cancel command fail: what counts is the state after it
    await run(scheduler.cancel, { job_id: jobId }).catch(() => {})
  }

  /** Cancels the job and waits until the scheduler has ended it (its processes are gone). */
  async function cancelAndWait(jobId: string, graceMs: number): Promise<void> {
    await cancel(jobId)
    await waitFor(
      `${scheduler.name} to end job ${jobId}`,
      async () => {
        const s = await query(jobId, true)
        return s.phase === 'ended' || s.phase === 'gone'
      },
      { timeoutMs: graceMs + STOP_MARGIN_MS, intervalMs: 200 },
    )
  }

  const log = (file: string, line: string) => {
    try {
      appendFileSync(file, `${new Date().toISOString()} ${line}\n`)
    } catch {
      /* the log is for people; a start does not fail for it */
    }
  }

  return {
    instanceKey: (state) => `${kind}:${state.jobId}`,
    optionsForm: (user) => profileForm(profiles, user),
    checkOptions: (user, options) => chooseProfile(profiles, user, options).options,

    async start(req: SpawnRequest, signal: AbortSignal): Promise<SpawnerState> {
      signal.throwIfAborted()
      const chosen: Partial<BatchProfileOverrides> = profileOverrides(profiles, req.options)
      const r = { ...settings, ...chosen }
      const account = await accountOf(req.user)
      signal.throwIfAborted()
      const home = account?.home ?? homedir()
      const apiUrl = settings.hubApiUrl ?? req.env.JUPYTERHUB_API_URL
      if (!apiUrl) throw new Error(`the job has no hub API to report its port to: set spawner.${kind}.hubApiUrl`)
      const token = req.env.JUPYTERHUB_API_TOKEN ?? ''
      const reportKey = tokenDigest(token).slice(0, REPORT_KEY_DIGITS)
      const runLines = runStep({
        python: settings.python,
        command: r.command,
        ip: settings.serverIp,
        baseUrl: req.baseUrl,
      })
      const name = jobName(req.user, req.server)
      // no user-chosen text reaches the script unquoted: names are reduced to a safe alphabet
      // (job_name), resources are checked by the settings' schema, and the run step quotes its words
      const script = fillTemplate(settings.template, {
        job_name: name,
        homedir: home,
        username: account?.name ?? userInfo().username,
        partition: r.partition,
        account: r.account,
        walltime: hms(r.walltimeMin),
        walltime_hm: hms(r.walltimeMin).slice(0, -3),
        walltime_seconds: String(r.walltimeMin * 60),
        memory_mb: String(r.memoryMb),
        cores: String(r.cores),
        parallel_cores: r.cores > 1 ? String(r.cores) : '',
        gpus: String(r.gpus),
        run: runLines,
      })
      const place = { user: req.user, server: req.server, baseUrl: req.baseUrl, ip: settings.serverIp, port: 0 }
      // the job's whole environment: the login's, the operator's, the scheduler's (SLURM_CONF), and
      // JupyterHub's with the server's token; nothing of the hub's own
      const env = serverProcessEnv({
        account,
        home,
        configured: { ...settings.env, ...chosen.env, ...settings.commandEnv },
        forServer: {
          ...jupyterhubEnv(req.env, place),
          JUPYTERHUB_API_URL: apiUrl,
          EDGEHUB_REPORT_URL: `${apiUrl.replace(/\/+$/, '')}/batchspawner`,
          EDGEHUB_RUN: runLines,
        },
      })
      const submit = fillCommand(scheduler.submit, {
        comment: jobComment(req.env.EDGEHUB_HUB_ID ?? '', req.user, req.server, reportKey),
        job_name: name,
      })
      const as = commandAs(account, submit.cmd, submit.args)
      const out: CommandOutput = await runCommand(as.cmd, as.args, {
        env,
        stdin: script,
        // the job's own directory is set in its script; here only where the command starts
        cwd: existsSync(home) ? home : '/',
        timeoutMs,
      }).catch((err: Error) => {
        throw new Error(`submitting the job to ${scheduler.name} failed: ${err.message}`)
      })
      if (out.code !== 0)
        throw new Error(
          `${scheduler.name} refused the job (${submit.cmd} exit ${out.code}): ${out.stderr.trim().slice(0, 500)}`,
        )
      const jobId = scheduler.parseSubmit(out.stdout)
      const state: SpawnerState = { jobId, user: req.user, server: req.server, baseUrl: req.baseUrl, reportKey }
      ctx.log.info('submitted a batch job', {
        user: req.user,
        server: req.server,
        jobId,
        ...(account ? { account: account.name } : {}),
      })
      log(req.logFile, `submitted ${scheduler.name} job ${jobId}; its output is in ${home} on the compute node`)
      req.progress(`${scheduler.name} job ${jobId} submitted`)
      try {
        let last = ''
        for (;;) {
          signal.throwIfAborted()
          const s = await query(jobId, true)
          if (s.phase === 'running') {
            req.progress(
              `${scheduler.name} job ${jobId} running on ${s.node}; waiting for the server to report its port`,
            )
            log(req.logFile, `job ${jobId} running on ${s.node}`)
            return state
          }
          if (s.phase !== 'queued') throw new Error(endReason(scheduler.name, jobId, s))
          const text = `${scheduler.name} job ${jobId} queued${await positionText(jobId)}${s.detail ? ` (${s.detail})` : ''}`
          if (text !== last) req.progress(text)
          last = text
          await delay(settings.pollIntervalSec * 1000, signal)
        }
      } catch (err) {
        // nothing of an aborted or failed start is left in the queue
        await cancelAndWait(jobId, 0).catch(() => {})
        throw signal.aborted ? (signal.reason ?? err) : err
      }
    },

    async poll(state: SpawnerState): Promise<ServerStatus> {
      const jobId = String(state.jobId)
      const s = await query(jobId)
      if (s.phase === 'queued')
        return { phase: 'pending', message: `${scheduler.name} job ${jobId} queued${s.detail ? ` (${s.detail})` : ''}` }
      // ending: its processes are being stopped; the next polls tell how it ended (walltime, node)
      if (s.phase === 'ending') return { phase: 'pending', message: endReason(scheduler.name, jobId, s) }
      if (s.phase !== 'running') return { phase: 'stopped', reason: endReason(scheduler.name, jobId, s) }
      const report = await ctx.serverReports?.get(String(state.user), String(state.server))
      // only the report of this start's server (its token is new at every start)
      const key = String(state.reportKey ?? '')
      if (key.length !== REPORT_KEY_DIGITS || !report?.tokenDigest.startsWith(key))
        return {
          phase: 'pending',
          message: `${scheduler.name} job ${jobId} running on ${s.node}; waiting for its port`,
        }
      const host = await addressOf(s.node)
      const target = `${host.includes(':') ? `[${host}]` : host}:${report.port}`
      return { phase: 'running', target, url: `http://${target}${state.baseUrl}` }
    },

    async stop(state: SpawnerState, { graceMs = 10_000 } = {}): Promise<void> {
      await cancelAndWait(String(state.jobId), graceMs)
    },

    ...(scheduler.list
      ? {
          async list(hubId: string) {
            const l = scheduler.list!
            const out = await run(l.command, {})
            if (out.code !== 0)
              throw new Error(`listing ${scheduler.name} jobs failed: ${out.stderr.trim().slice(0, 300)}`)
            const found = []
            const owners = new Map<string, string | undefined>()
            for (const job of l.parse(out.stdout)) {
              const c = parseJobComment(job.comment)
              if (!c || c.hubId !== hubId) continue
              // a job is a user's server only when that user's account owns it: anyone may write a comment
              if (!owners.has(c.user)) owners.set(c.user, await ownerOf(c.user))
              if (owners.get(c.user) !== job.owner) continue
              found.push({
                user: c.user,
                server: c.server,
                state: {
                  jobId: job.jobId,
                  user: c.user,
                  server: c.server,
                  baseUrl: baseUrlOf(c.user, c.server),
                  reportKey: c.reportKey,
                },
              })
            }
            return found
          },
        }
      : {}),
  }

  /** The account name the scheduler shows as the owner of `user`'s jobs. */
  async function ownerOf(user: string): Promise<string | undefined> {
    if (!perUser) return userInfo().username
    try {
      return (await lookupAccount(accountName(user, settings.userPrefix)))?.name
    } catch {
      return undefined
    }
  }
}
