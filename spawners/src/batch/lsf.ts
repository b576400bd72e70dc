// IBM Spectrum LSF (batchspawner's LsfSpawner): bsub / bjobs -o / bkill. Not run against a real LSF
// here: tested with recorded bjobs output only (schedulers.test.ts).
import { matchJobId, type JobEnd, type JobState, type SchedulerDefinition } from './scheduler'

export const LSF_TEMPLATE = `#!/bin/bash
#BSUB -J {job_name}
#BSUB -o {homedir}/.edgehub-lsf-%J.log
#BSUB -cwd {homedir}
#BSUB -n {cores}
#BSUB -R "span[hosts=1] rusage[mem={memory_mb}]"
#BSUB -W {walltime_hm}
{?partition}#BSUB -q {partition}
{?account}#BSUB -P {account}
{?gpus}#BSUB -gpu "num={gpus}"
set -eu
{run}
`

/** bjobs' exit_reason (its TERM_* code) as an end. */
function lsfEnd(reason: string): JobEnd {
  if (/TERM_RUNLIMIT|TERM_DEADLINE/.test(reason)) return 'timeout'
  if (/TERM_MEMLIMIT|TERM_SWAP/.test(reason)) return 'out_of_memory'
  if (/TERM_(FORCE_)?(OWNER|ADMIN)|TERM_REQUEUE/.test(reason)) return 'cancelled'
  if (/TERM_PREEMPT/.test(reason)) return 'preempted'
  if (/TERM_(ZOMBIE|ORPHAN|REMOVE_HUNG_JOB)/.test(reason)) return 'node_fail'
  return 'failed'
}

const dash = (s: string | undefined) => (s && s.trim() !== '-' ? s.trim() : '')

export function parseBjobs({ stdout, stderr, code }: { stdout: string; stderr: string; code: number }): JobState {
  const text = `${stdout}\n${stderr}`
  if (/is not found/i.test(text)) return { phase: 'gone' }
  if (code !== 0) throw new Error(`bjobs failed (exit ${code}): ${stderr.trim().slice(0, 300)}`)
  const line = stdout.trim().split('\n')[0]?.trim()
  if (!line) return { phase: 'gone' }
  const [stat = '', execHost, , exitReason] = line.split('|')
  switch (stat.trim()) {
    case 'RUN':
      // "4*node01:2*node02": the first host, without its slot count
      return {
        phase: 'running',
        node: dash(execHost)
          .split(':')[0]
          .replace(/^\d+\*/, ''),
      }
    case 'PEND':
    case 'PSUSP':
    case 'USUSP':
    case 'SSUSP':
    case 'WAIT':
    case 'PROV':
      return { phase: 'queued', detail: stat.trim() === 'PEND' ? undefined : stat.trim().toLowerCase() }
    case 'DONE':
      return { phase: 'ended', end: 'completed' }
    case 'EXIT':
      return { phase: 'ended', end: lsfEnd(dash(exitReason)), detail: dash(exitReason) || undefined }
    case 'UNKWN':
    case 'ZOMBI':
      // the batch daemon of its host is unreachable (UNKWN), or the job was killed while it was (ZOMBI)
      return { phase: 'ended', end: 'node_fail', detail: `LSF state ${stat.trim()}` }
    default:
      throw new Error(`bjobs gave a job state this spawner does not know: ${JSON.stringify(stat)}`)
  }
}

export const lsfScheduler: SchedulerDefinition = {
  name: 'LSF',
  template: LSF_TEMPLATE,
  submit: { cmd: 'bsub', args: [] },
  // "Job <1234> is submitted to queue <normal>."
  parseSubmit: (stdout) => matchJobId('bsub', /Job <(\d+)> is submitted/, stdout),
  query: { cmd: 'bjobs', args: ['-noheader', '-o', "stat exec_host exit_code exit_reason delimiter='|'", '{job_id}'] },
  parseQuery: parseBjobs,
  cancel: { cmd: 'bkill', args: ['{job_id}'] },
}
