// Sun/Son of/Univa Grid Engine (batchspawner's GridengineSpawner): qsub -terse / qstat / qdel, and
// qacct for how a job ended. Not run against a real Grid Engine here: tested with recorded qstat and
// qacct output only (schedulers.test.ts).
import { matchJobId, type JobState, type SchedulerDefinition } from './scheduler'

export const SGE_TEMPLATE = `#!/bin/bash
#$ -N {job_name}
#$ -o {homedir}/.edgehub-sge.log
#$ -j y
#$ -wd {homedir}
#$ -V
#$ -S /bin/bash
#$ -l h_rt={walltime}
#$ -l h_vmem={memory_mb}M
{?parallel_cores}#$ -pe smp {parallel_cores}
{?partition}#$ -q {partition}
{?account}#$ -A {account}
{?gpus}#$ -l gpu={gpus}
set -eu
{run}
`

/**
 * `qstat -u '*'`'s line for one job: job-ID prior name user state submit/start-at queue slots. The
 * state letters: q queued, w waiting, h held, r running, t transferring, d being deleted, E error,
 * s/S/T suspended; the queue column of a running job is QUEUE@HOST.
 */
export function parseQstatSge(
  { stdout, stderr, code }: { stdout: string; stderr: string; code: number },
  jobId: string,
): JobState {
  if (code !== 0) throw new Error(`qstat failed (exit ${code}): ${stderr.trim().slice(0, 300)}`)
  const id = jobId.split('.')[0]
  const line = stdout.split('\n').find((l) => l.trim().split(/\s+/)[0] === id)
  if (!line) return { phase: 'gone' }
  const cols = line.trim().split(/\s+/)
  const state = cols[4] ?? ''
  const queue = cols.find((c) => c.includes('@')) ?? ''
  if (state.includes('E'))
    return { phase: 'ended', end: 'failed', detail: `Grid Engine state ${state} (qstat -j ${id} says why)` }
  if (state.includes('d')) return { phase: 'ending' }
  if (/[rt]/.test(state) && !/[sST]/.test(state)) return { phase: 'running', node: queue.split('@')[1] ?? '' }
  return { phase: 'queued', detail: state.includes('h') ? 'held' : undefined }
}

/** qacct -j: `failed` (37: qmaster enforced h_rt, h_cpu or h_vmem) and `exit_status` of an ended job. */
export function parseQacct({ stdout, stderr, code }: { stdout: string; stderr: string; code: number }): JobState {
  if (code !== 0 || /not found/i.test(stderr)) return { phase: 'gone' }
  const field = (name: string) => new RegExp(`^${name}\\s+(.*)$`, 'm').exec(stdout)?.[1]?.trim()
  const failed = field('failed') ?? '0'
  const exit = Number(field('exit_status') ?? '0')
  const failCode = Number(failed.split(/\s+/)[0])
  if (failCode === 37 || /h_rt/.test(failed)) return { phase: 'ended', end: 'timeout', detail: failed }
  if (failCode === 0 && exit === 0) return { phase: 'ended', end: 'completed' }
  return { phase: 'ended', end: 'failed', detail: failCode ? failed : `exit status ${exit}` }
}

export const sgeScheduler: SchedulerDefinition = {
  name: 'Grid Engine',
  template: SGE_TEMPLATE,
  submit: { cmd: 'qsub', args: ['-terse'] },
  // "1234", or "1234.1-1:1" for an array
  parseSubmit: (stdout) => matchJobId('qsub', /^\s*(\d+)(?:\.\S*)?\s*$/m, stdout),
  query: { cmd: 'qstat', args: ['-u', '*'] },
  parseQuery: parseQstatSge,
  cancel: { cmd: 'qdel', args: ['{job_id}'] },
  history: { command: { cmd: 'qacct', args: ['-j', '{job_id}'] }, parse: parseQacct },
}
