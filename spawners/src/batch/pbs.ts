// PBS Pro and Torque (batchspawner's TorqueSpawner and PBSSpawner): qsub / qstat -f / qdel. Not run
// against a real PBS here: tested with recorded qstat output only (schedulers.test.ts).
import { matchJobId, type JobEnd, type JobState, type SchedulerDefinition } from './scheduler'

export const PBS_TEMPLATE = `#!/bin/bash
#PBS -N {job_name}
#PBS -o {homedir}/.edgehub-pbs.log
#PBS -j oe
#PBS -V
#PBS -l nodes=1:ppn={cores}
#PBS -l mem={memory_mb}mb
#PBS -l walltime={walltime}
{?partition}#PBS -q {partition}
{?account}#PBS -A {account}
{?gpus}#PBS -l ngpus={gpus}
cd {homedir}
set -eu
{run}
`

/** `qstat -f`'s attributes of one job, as name → value (continuation lines joined). */
export function qstatAttributes(stdout: string): Map<string, string> {
  const attrs = new Map<string, string>()
  let last = ''
  for (const line of stdout.split('\n')) {
    const m = /^\s{4}([\w.]+) = (.*)$/.exec(line)
    if (m) {
      last = m[1]
      attrs.set(last, m[2].trim())
    } else if (last && /^\t/.test(line)) attrs.set(last, attrs.get(last) + line.trim())
  }
  return attrs
}

/**
 * How a finished job ended, from its exit status and comment: Torque's -10/-11 (memory, walltime
 * over limit), PBS Pro's -27/-29 (killed for memory, for walltime), 256 + 15 for a qdel.
 */
function pbsEnd(exit: number | undefined, comment: string): JobEnd {
  if (exit === -11 || exit === -29 || /walltime .*exceeded|exceeded .*walltime/i.test(comment)) return 'timeout'
  if (exit === -10 || exit === -27 || /\bmem\b.*exceeded/i.test(comment)) return 'out_of_memory'
  if (/node .*(fail|down)|(fail|down).* node/i.test(comment)) return 'node_fail'
  if (exit === 0) return 'completed'
  if (exit === 271 || /deleted|qdel/i.test(comment)) return 'cancelled'
  return 'failed'
}

export function parseQstatFull({ stdout, stderr, code }: { stdout: string; stderr: string; code: number }): JobState {
  if (code !== 0) {
    if (/unknown job id|job has finished/i.test(stderr)) return { phase: 'gone' }
    throw new Error(`qstat failed (exit ${code}): ${stderr.trim().slice(0, 300)}`)
  }
  const attrs = qstatAttributes(stdout)
  const state = attrs.get('job_state')
  if (!state) return { phase: 'gone' }
  const comment = attrs.get('comment') ?? ''
  switch (state) {
    case 'R': {
      // Torque: node01/0+node01/1; PBS Pro: node01/0*4
      const node = (attrs.get('exec_host') ?? '').split('+')[0].split('/')[0]
      return { phase: 'running', node }
    }
    case 'E':
      return { phase: 'ending' }
    case 'C':
    case 'F': {
      const exit = attrs.has('Exit_status') ? Number(attrs.get('Exit_status')) : undefined
      return { phase: 'ended', end: pbsEnd(exit, comment), detail: comment || undefined }
    }
    case 'Q':
    case 'H':
    case 'W':
    case 'T':
    case 'S':
    case 'U':
    case 'B':
    case 'M':
      return { phase: 'queued', detail: comment || (state === 'H' ? 'held' : undefined) }
    default:
      throw new Error(`qstat gave a job state this spawner does not know: ${state}`)
  }
}

export const pbsScheduler: SchedulerDefinition = {
  name: 'PBS/Torque',
  template: PBS_TEMPLATE,
  submit: { cmd: 'qsub', args: [] },
  // "1234.pbs-server" (Torque, PBS Pro)
  parseSubmit: (stdout) => matchJobId('qsub', /^\s*(\d+(?:\.[\w.-]+)?)\s*$/m, stdout),
  query: { cmd: 'qstat', args: ['-f', '{job_id}'] },
  parseQuery: parseQstatFull,
  cancel: { cmd: 'qdel', args: ['{job_id}'] },
}
