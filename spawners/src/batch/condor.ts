// HTCondor (batchspawner's CondorSpawner): condor_submit / condor_q / condor_rm, and condor_history
// for how a job ended. The template is a submit description, not a shell script: the job runs bash
// with the batch base's run step from the environment (getenv). Not run against a real HTCondor
// here: tested with recorded output only (schedulers.test.ts).
import { matchJobId, type JobState, type SchedulerDefinition } from './scheduler'

export const CONDOR_TEMPLATE = `universe = vanilla
executable = /bin/bash
arguments = "-c 'eval ""$EDGEHUB_RUN""'"
getenv = True
initialdir = {homedir}
output = {homedir}/.edgehub-condor.out
error = {homedir}/.edgehub-condor.err
request_cpus = {cores}
request_memory = {memory_mb}
{?gpus}request_gpus = {gpus}
{?account}accounting_group = {account}
{?partition}requirements = (TARGET.Partition == "{partition}")
+JobBatchName = "{job_name}"
periodic_remove = (JobStatus == 2) && (time() - EnteredCurrentStatus > {walltime_seconds})
should_transfer_files = NO
queue
`

const undef = (s: string | undefined) => (s && s !== 'undefined' ? s : '')

/**
 * `-af:t JobStatus RemoteHost RemoveReason HoldReason` (tab-separated): 1 idle, 2 running, 3 removed,
 * 4 completed, 5 held, 6 transferring output, 7 suspended. A removal by the template's
 * periodic_remove (its walltime) names PeriodicRemove in RemoveReason.
 */
export function parseCondorAttributes(line: string): JobState {
  const [status, host, removeReason, holdReason] = line.split('\t').map((s) => s.trim())
  switch (status) {
    case '1':
      return { phase: 'queued' }
    case '5':
      return { phase: 'queued', detail: undef(holdReason) ? `held: ${holdReason}` : 'held' }
    case '7':
      return { phase: 'queued', detail: 'suspended' }
    case '2':
      // slot1@node01.example.org
      return { phase: 'running', node: undef(host).split('@').pop() ?? '' }
    case '6':
      return { phase: 'ending' }
    case '3':
      return /PeriodicRemove/i.test(removeReason ?? '')
        ? { phase: 'ended', end: 'timeout', detail: undef(removeReason) }
        : { phase: 'ended', end: 'cancelled', detail: undef(removeReason) || undefined }
    case '4':
      return { phase: 'ended', end: 'completed' }
    default:
      throw new Error(`condor_q gave a job status this spawner does not know: ${JSON.stringify(line.slice(0, 200))}`)
  }
}

export function parseCondorQ({ stdout, stderr, code }: { stdout: string; stderr: string; code: number }): JobState {
  if (code !== 0) throw new Error(`condor_q failed (exit ${code}): ${stderr.trim().slice(0, 300)}`)
  const line = stdout.split('\n').find((l) => l.trim())
  return line ? parseCondorAttributes(line) : { phase: 'gone' }
}

const FIELDS = ['-af:t', 'JobStatus', 'RemoteHost', 'RemoveReason', 'HoldReason']

export const condorScheduler: SchedulerDefinition = {
  name: 'HTCondor',
  template: CONDOR_TEMPLATE,
  submit: { cmd: 'condor_submit', args: [] },
  // "1 job(s) submitted to cluster 1234."
  parseSubmit: (stdout) => `${matchJobId('condor_submit', /submitted to cluster (\d+)/, stdout)}.0`,
  query: { cmd: 'condor_q', args: ['{job_id}', ...FIELDS] },
  parseQuery: parseCondorQ,
  cancel: { cmd: 'condor_rm', args: ['{job_id}'] },
  history: {
    command: { cmd: 'condor_history', args: ['{job_id}', '-limit', '1', ...FIELDS] },
    parse: (out) => (out.code === 0 ? parseCondorQ(out) : { phase: 'gone' }),
  },
}
