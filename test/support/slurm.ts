// A real single-node Slurm cluster for tests, from Debian's packages (slurm-wlm, munge): a munge key
// and a munged of its own (its own socket), a slurm.conf for this host with free loopback ports,
// slurmctld and slurmd started as this test's own processes (in the foreground, -D), and the node
// waited on until sinfo says it is idle. No cgroups and no systemd: proctrack/linuxproc and
// task/none. The node's address is a loopback alias (127.0.0.2 by default), so the proxy reaches a
// "compute node" that is not 127.0.0.1. stop() ends the daemons by PID and removes the directory.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { freePort } from '../../runtime/src/ports'
import { waitFor } from '../../runtime/src/wait'
import { SPAWNERS, tokenDigest, type ServerReport, type ServerReports } from '../../spawners/src'
import { CONTRACT_SERVER, type SpawnerUnderTest } from '../contracts/spawner-contract'
import { removeAccounts, testPrefix } from './accounts'

const run = promisify(execFile)

export const SLURMCTLD = '/usr/sbin/slurmctld'
export const SLURMD = '/usr/sbin/slurmd'
export const MUNGED = '/usr/sbin/munged'
export const MUNGEKEY = '/usr/sbin/mungekey'

/** Why Slurm tests cannot run here (missing packages, not root), or undefined when they can. */
export const slurmSkipReason: string | undefined = ![SLURMCTLD, SLURMD, MUNGED, MUNGEKEY, '/usr/bin/sbatch'].every(
  (p) => existsSync(p),
)
  ? 'slurm-wlm and munge are not installed (scripts/install-deps.sh --test)'
  : process.getuid?.() !== 0
    ? 'slurmd must run as root to start jobs as other users'
    : undefined

export interface Slurm {
  /** The slurm.conf: give it to Slurm's commands as SLURM_CONF. */
  conf: string
  /** The environment Slurm's commands need (SLURM_CONF). */
  env: Record<string, string>
  /** The compute node's name and the address the proxy reaches it at. */
  node: string
  nodeAddr: string
  partition: string
  /** Runs a Slurm command (squeue, scontrol, …) against this cluster; its stdout. */
  command(cmd: string, args: string[]): Promise<string>
  /** The daemons' logs, for a failing test's message. */
  logs(): string
  stop(): Promise<void>
}

interface Daemon {
  name: string
  proc: ChildProcess
  exited: Promise<void>
}

function startDaemon(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): Daemon {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'], env })
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  return { name, proc, exited }
}

async function stopDaemon(d: Daemon): Promise<void> {
  if (d.proc.exitCode === null && d.proc.signalCode === null && d.proc.pid) process.kill(d.proc.pid, 'SIGTERM')
  await Promise.race([
    d.exited,
    waitFor(`${d.name} to exit`, () => d.proc.exitCode !== null || d.proc.signalCode !== null, {
      timeoutMs: 20_000,
    }).catch(() => {
      if (d.proc.pid && d.proc.exitCode === null) process.kill(d.proc.pid, 'SIGKILL')
    }),
  ])
}

const tail = (file: string, lines = 20) => {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n')
  } catch {
    return ''
  }
}

/** Starts munged, slurmctld and slurmd for one node at `nodeAddr`; resolves once the node is idle. */
export async function startSlurm(opts: { nodeAddr?: string; cpus?: number } = {}): Promise<Slurm> {
  if (slurmSkipReason) throw new Error(slurmSkipReason)
  const dir = mkdtempSync(join(tmpdir(), 'edgehub-slurm-'))
  // users' sbatch reads slurm.conf and talks to munged's socket: both must be reachable by them
  chmodSync(dir, 0o755)
  const node = hostname().split('.')[0]
  const nodeAddr = opts.nodeAddr ?? '127.0.0.2'
  const cpus = opts.cpus ?? 2
  const partition = 'debug'
  const munge = join(dir, 'munge')
  mkdirSync(munge, { mode: 0o700 })
  const socketDir = join(dir, 'munge-socket')
  mkdirSync(socketDir, { mode: 0o755 })
  chmodSync(socketDir, 0o755)
  const socket = join(socketDir, 'munge.socket')
  const key = join(munge, 'munge.key')
  execFileSync(MUNGEKEY, ['--create', `--keyfile=${key}`], { stdio: 'pipe' })
  chmodSync(key, 0o600)
  for (const d of ['state', 'spool', 'log']) mkdirSync(join(dir, d), { mode: 0o755 })
  const [ctldPort, slurmdPort] = [await freePort(), await freePort(nodeAddr)]
  const conf = join(dir, 'slurm.conf')
  writeFileSync(
    conf,
    `ClusterName=edgehubtest
SlurmctldHost=${node}(127.0.0.1)
SlurmctldPort=${ctldPort}
SlurmdPort=${slurmdPort}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${socket}
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool/%n
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/log/slurmctld.log
SlurmdLogFile=${dir}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
Waittime=0
NodeName=${node} NodeAddr=${nodeAddr} NodeHostname=${node} CPUs=${cpus} RealMemory=1000 State=UNKNOWN
PartitionName=${partition} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`,
  )
  chmodSync(conf, 0o644)
  const env = { SLURM_CONF: conf }
  const daemonEnv = { ...process.env, ...env }
  const daemons: Daemon[] = []
  const logs = () =>
    `slurmctld:\n${tail(join(dir, 'log/slurmctld.log'))}\nslurmd:\n${tail(join(dir, 'log/slurmd.log'))}\nmunged:\n${tail(join(munge, 'munged.log'))}`
  const command = async (cmd: string, args: string[]) =>
    (await run(cmd, args, { env: daemonEnv, encoding: 'utf8', timeout: 15_000 })).stdout
  const stop = async () => {
    for (const d of [...daemons].reverse()) await stopDaemon(d)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const munged = startDaemon(
      'munged',
      MUNGED,
      [
        '--foreground',
        '--force',
        `--key-file=${key}`,
        `--socket=${socket}`,
        `--pid-file=${join(munge, 'munged.pid')}`,
        `--log-file=${join(munge, 'munged.log')}`,
        `--seed-file=${join(munge, 'munged.seed')}`,
      ],
      daemonEnv,
    )
    daemons.push(munged)
    await waitFor('munged to listen', () => {
      if (munged.proc.exitCode !== null) throw new Error(`munged exited: ${logs()}`)
      return existsSync(socket)
    })
    chmodSync(socket, 0o777)
    const ctld = startDaemon('slurmctld', SLURMCTLD, ['-D', '-i', '-f', conf], daemonEnv)
    daemons.push(ctld)
    const slurmd = startDaemon('slurmd', SLURMD, ['-D', '-N', node, '-f', conf], daemonEnv)
    daemons.push(slurmd)
    await waitFor(
      'the Slurm node to be idle',
      async () => {
        for (const d of daemons) if (d.proc.exitCode !== null) throw new Error(`${d.name} exited: ${logs()}`)
        const out = await command('sinfo', ['-h', '-n', node, '-o', '%t']).catch(() => '')
        return out.trim() === 'idle'
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    )
  } catch (err) {
    await stop()
    throw err
  }
  return { conf, env, node, nodeAddr, partition, command, logs, stop }
}

/**
 * What stands in for the hub's report API (POST /hub/api/batchspawner) where no hub runs (the
 * spawner contract suite): the same path and body, the token from the Authorization header, and the
 * reports kept as the hub keeps them (by user and server, with the token's digest). The real API is
 * tested in test/e2e/slurm/.
 */
export async function startReportReceiver(): Promise<{
  apiUrl: string
  reports: ServerReports
  close(): Promise<void>
}> {
  const kept = new Map<string, ServerReport>()
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (b: Buffer) => {
      body += b.toString()
    })
    req.on('end', () => {
      const token = /^token (\S+)$/.exec(req.headers.authorization ?? '')?.[1]
      if (req.method !== 'POST' || req.url !== '/hub/api/batchspawner' || !token) return res.writeHead(403).end()
      const { port, user, server: name } = JSON.parse(body) as { port: number; user: string; server: string }
      kept.set(`${user}/${name}`, { port, tokenDigest: tokenDigest(token), at: new Date().toISOString() })
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"message": "BatchSpawner data configured"}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    apiUrl: `http://127.0.0.1:${port}/hub/api`,
    reports: { get: async (user, name) => kept.get(`${user}/${name}`) },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/**
 * The spawner contract's set-up for `slurm`: a cluster of its own, a report receiver, servers as
 * accounts of a test prefix (made on first spawn, removed at the end) running the contract's server.
 */
export async function slurmUnderTest(): Promise<SpawnerUnderTest> {
  const slurm = await startSlurm()
  const receiver = await startReportReceiver()
  const prefix = testPrefix()
  const settings = SPAWNERS.slurm.settings.parse({
    command: ['python3', '-c', CONTRACT_SERVER, '0.0.0.0', '{port}'],
    commandEnv: slurm.env,
    hubApiUrl: receiver.apiUrl,
    userPrefix: prefix,
    createUsers: true,
    memoryMb: 100,
    walltimeMin: 10,
    pollIntervalSec: 0.2,
  })
  const quiet = { info() {}, warn() {} }
  return {
    make: () => SPAWNERS.slurm.create(settings, { dataDir: tmpdir(), log: quiet, serverReports: receiver.reports }),
    async cleanup() {
      await receiver.close()
      await slurm.stop()
      const left = removeAccounts(prefix)
      if (left.length) throw new Error(`accounts left behind: ${left.join('; ')}`)
    },
  }
}
