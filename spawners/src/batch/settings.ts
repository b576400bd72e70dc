// spawner.KIND for every batch scheduler (slurm, pbs, lsf, sge, condor): one schema, with the
// scheduler's own job template as the default. Validated at the hub's start, listed in docs/config.md.
import { z } from 'zod'
import { isIP } from 'node:net'
import { ACCOUNT_PREFIX } from '../local-process/accounts'
import { profilesSchema } from '../profiles'
import type { SchedulerDefinition } from './scheduler'

/** A partition, queue or account name: what schedulers accept, nothing a template could be broken by. */
const NAME = /^[A-Za-z0-9_.@+-]{0,64}$/
const name = (what: string) => z.string().regex(NAME, `expected a ${what} name: up to 64 of A-Z a-z 0-9 _ . @ + -`)

/** One year in minutes: the longest walltime. */
const MAX_WALLTIME_MIN = 525_600
/** 16 TiB in MiB: the most memory a job may ask for. */
const MAX_MEMORY_MIB = 16 * 1024 * 1024

const resources = {
  partition: name('partition').describe('Partition (Slurm) or queue (PBS, LSF, SGE) of the job; "": the default.'),
  account: name('account').describe('Account (project) the job is charged to; "": the default.'),
  walltimeMin: z
    .number()
    .int()
    .min(1)
    .max(MAX_WALLTIME_MIN)
    .describe("The job's time limit in minutes (walltime), 1 to 525600: the server is stopped when it is reached."),
  memoryMb: z.number().int().min(16).max(MAX_MEMORY_MIB).describe('Memory of the job in MiB, 16 to 16777216.'),
  cores: z.number().int().min(1).max(4096).describe('CPU cores of the job, 1 to 4096.'),
  gpus: z.number().int().min(0).max(64).describe('GPUs of the job, 0 to 64 (0: no GPU line in the job script).'),
}

/** What a profile (or a choice of one) may change of a job: its resources, the server command, its variables. */
const profileOverrides = z.object({
  ...resources,
  command: z.array(z.string().min(1)).min(1),
  env: z.record(z.string(), z.string()),
})

export function batchSettings(scheduler: SchedulerDefinition, kind: string) {
  return z
    .strictObject({
      template: z
        .string()
        .min(1)
        .max(100_000)
        .default(scheduler.template)
        .describe(
          `The job script (the submit description for HTCondor) given to the scheduler. Placeholders: {job_name} (edgehub-USER[-SERVER] in A-Z a-z 0-9 _ . -) {homedir} {username} (the Unix account) {partition} {account} {walltime} (HH:MM:SS) {walltime_hm} (HH:MM) {walltime_seconds} {memory_mb} {cores} {parallel_cores} (cores when more than 1, else "") {gpus} and {run}, the lines that report the port and start the server (also in the job's environment as EDGEHUB_RUN). A line starting with {?NAME} is kept only when NAME is set and not 0. Default: ${scheduler.name}'s template in docs/spawners/batch.md.`,
        ),
      command: z
        .array(z.string().min(1))
        .min(1)
        .default(['jupyterhub-singleuser'])
        .describe(
          'The server command the job runs on the compute node, with its arguments; {port} in an argument is the port the job picked (jupyterhub-singleuser needs none: it reads JUPYTERHUB_SERVICE_URL).',
        ),
      python: z
        .string()
        .min(1)
        .default('python3')
        .describe('Python on the compute nodes: the job uses it to pick a free port and report it to the hub.'),
      env: z.record(z.string(), z.string()).default({}).describe("Extra environment variables of every job's server."),
      commandEnv: z
        .record(z.string(), z.string())
        .default({})
        .describe(
          `Environment of the scheduler's commands (${scheduler.submit.cmd}, ${scheduler.query.cmd}, ${scheduler.cancel.cmd}), such as SLURM_CONF; jobs inherit it too.`,
        ),
      serverIp: z
        .string()
        .refine((s) => isIP(s) !== 0, 'expected an IP address')
        .default('0.0.0.0')
        .describe("Address the server binds to on the compute node; the proxy reaches it at the node's address."),
      hubApiUrl: z
        .url({ protocol: /^https?$/, error: 'expected an http or https URL' })
        .optional()
        .describe(
          "The hub's API as compute nodes reach it (batchspawner's hub_connect_url), e.g. http://hub.cluster:8000/hub/api: jobs report their port to HUBAPIURL/batchspawner and jupyterhub-singleuser talks to the hub there. Default: the hub's public URL (JUPYTERHUB_API_URL).",
        ),
      nodeAddresses: z
        .record(
          z.string(),
          z.string().refine((s) => isIP(s) !== 0, 'expected an IP address'),
        )
        .default({})
        .describe(
          "Address of each compute node by its scheduler name, for nodes the proxy cannot reach by looking up their names. Without an entry: Slurm's NodeAddr (scontrol show node), else the node name looked up in DNS.",
        ),
      userPrefix: z
        .string()
        .regex(ACCOUNT_PREFIX, 'expected up to 15 characters a-z 0-9 _ -, starting with a letter or _, or ""')
        .default('')
        .describe(
          "Hub as root: jobs are submitted as the Unix account userPrefix + NAME of hub user NAME (as spawner.local-process.userPrefix), which must exist on the compute nodes too; '' (the default) uses the cluster's accounts named as the hub users. An unprivileged hub submits every job as itself.",
        ),
      createUsers: z
        .boolean()
        .default(false)
        .describe(
          'Hub as root: make a missing account on this machine on first spawn (useradd). Off by default: cluster accounts come from the directory every node shares.',
        ),
      partition: resources.partition.default(''),
      account: resources.account.default(''),
      walltimeMin: resources.walltimeMin.default(480),
      memoryMb: resources.memoryMb.default(2048),
      cores: resources.cores.default(1),
      gpus: resources.gpus.default(0),
      pollIntervalSec: z
        .number()
        .min(0.2)
        .max(60)
        .default(2)
        .describe(
          `How often a start asks ${scheduler.name} for the job's state while it waits in the queue, 0.2 to 60 seconds.`,
        ),
      commandTimeoutSec: z
        .number()
        .min(1)
        .max(300)
        .default(30)
        .describe(
          `How long one of ${scheduler.name}'s commands may take before it counts as failed, 1 to 300 seconds.`,
        ),
      profiles: profilesSchema(profileOverrides).describe(
        "Choices on the spawn page (KubeSpawner's profile_list): each `{slug, displayName, description, default, groups, overrides, options}`, where overrides may set `partition`, `account`, `walltimeMin`, `memoryMb`, `cores`, `gpus`, `command` and `env`, and `options` are further named choices (a GPU count, a time limit), each with overrides of its own. A profile or choice not offered to the user is refused (400 naming the field).",
      ),
    })
    .describe(`The ${kind} spawner: each server is a ${scheduler.name} job on a compute node (docs/spawners/batch.md).`)
    .prefault({})
}

export type BatchSettings = z.output<ReturnType<typeof batchSettings>>
export type BatchProfileOverrides = z.output<typeof profileOverrides>
