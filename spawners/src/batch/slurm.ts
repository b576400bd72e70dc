// Slurm (batchspawner's SlurmSpawner): sbatch / squeue / scancel. Tested against a real Slurm
// (test/support/slurm.ts) as well as with recorded output (schedulers.test.ts).
import { matchJobId, type JobEnd, type JobState, type SchedulerDefinition } from './scheduler'

export const SLURM_TEMPLATE = `#!/bin/bash
#SBATCH --job-name={job_name}
#SBATCH --output={homedir}/.edgehub-slurm-%j.log
#SBATCH --chdir={homedir}
#SBATCH --export=ALL
#SBATCH --no-requeue
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task={cores}
#SBATCH --mem={memory_mb}M
#SBATCH --time={walltime}
{?partition}#SBATCH --partition={partition}
{?account}#SBATCH --account={account}
{?gpus}#SBATCH --gres=gpu:{gpus}
set -eu
{run}
`

/** squeue's %T (the job's state, long form) for a job that left the queue. */
const ENDED: Record<string, JobEnd> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  SPECIAL_EXIT: 'failed',
  CANCELLED: 'cancelled',
  REVOKED: 'cancelled',
  TIMEOUT: 'timeout',
  DEADLINE: 'timeout',
  NODE_FAIL: 'node_fail',
  BOOT_FAIL: 'node_fail',
  OUT_OF_MEMORY: 'out_of_memory',
  PREEMPTED: 'preempted',
}
const QUEUED = new Set([
  'PENDING',
  'CONFIGURING',
  'REQUEUED',
  'REQUEUE_HOLD',
  'REQUEUE_FED',
  'RESV_DEL_HOLD',
  'SUSPENDED',
  'STOPPED',
  'RESIZING',
  'SIGNALING',
  'STAGE_OUT',
])

export function parseSqueue({ stdout, stderr, code }: { stdout: string; stderr: string; code: number }): JobState {
  if (code !== 0) {
    if (/invalid job id/i.test(stderr)) return { phase: 'gone' }
    throw new Error(`squeue failed (exit ${code}): ${stderr.trim().slice(0, 300)}`)
  }
  const line = stdout.trim().split('\n')[0]?.trim()
  if (!line) return { phase: 'gone' }
  const [state = '', host = '', reason = ''] = line.split('|')
  const word = state.trim().split(/\s+/)[0]
  if (word === 'RUNNING') return { phase: 'running', node: host.trim() }
  if (word === 'COMPLETING') return { phase: 'ending' }
  if (ENDED[word])
    return { phase: 'ended', end: ENDED[word], detail: reason.trim() === 'None' ? undefined : reason.trim() }
  if (QUEUED.has(word)) {
    const r = reason.trim()
    return { phase: 'queued', detail: word === 'PENDING' ? (r && r !== 'None' ? r : undefined) : word.toLowerCase() }
  }
  throw new Error(`squeue gave a state this spawner does not know: ${JSON.stringify(line.slice(0, 200))}`)
}

export const slurmScheduler: SchedulerDefinition = {
  name: 'Slurm',
  template: SLURM_TEMPLATE,
  submit: { cmd: 'sbatch', args: ['--parsable', '--comment={comment}'] },
  // "1234" or "1234;cluster"
  parseSubmit: (stdout) => matchJobId('sbatch', /^\s*(\d+)(?:;\S*)?\s*$/m, stdout),
  query: { cmd: 'squeue', args: ['--noheader', '--jobs={job_id}', '--states=all', '--format=%T|%B|%r'] },
  parseQuery: parseSqueue,
  cancel: { cmd: 'scancel', args: ['{job_id}'] },
  queuePosition: {
    command: { cmd: 'squeue', args: ['--noheader', '--states=PENDING', '--format=%i', '--sort=-p,i'] },
    parse(stdout, jobId) {
      const ids = stdout
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
      const i = ids.indexOf(jobId)
      return i < 0 ? undefined : { position: i + 1, of: ids.length }
    },
  },
  nodeAddress: {
    command: { cmd: 'scontrol', args: ['--oneliner', 'show', 'node', '{node}'] },
    parse: (stdout) => /\bNodeAddr=(\S+)/.exec(stdout)?.[1],
  },
  list: {
    command: {
      cmd: 'squeue',
      args: ['--noheader', '--states=PENDING,CONFIGURING,RUNNING,SUSPENDED', '--format=%i|%u|%k'],
    },
    parse: (stdout) =>
      stdout
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => {
          const [jobId, owner, ...rest] = l.trim().split('|')
          return { jobId, owner, comment: rest.join('|') }
        }),
  },
}
