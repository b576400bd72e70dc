// What the batch base needs to know of one scheduler, as data: the job script's template, the
// commands that submit, query and cancel a job (with {placeholders}), and how their output reads.
// Slurm, PBS/Torque, LSF, SGE and HTCondor each give one (slurm.ts, pbs.ts, …); the spawner
// (spawner.ts) is the same for all of them.

/** How a job that left the queue ended. */
export type JobEnd = 'completed' | 'failed' | 'cancelled' | 'timeout' | 'node_fail' | 'out_of_memory' | 'preempted'

export type JobState =
  /** Waiting in the queue; `detail`: the scheduler's reason (Priority, Resources, held, …). */
  | { phase: 'queued'; detail?: string }
  /** Running on `node` (the scheduler's name of the node where the job script runs). */
  | { phase: 'running'; node: string }
  /** Being ended: the scheduler is stopping its processes. */
  | { phase: 'ending' }
  | { phase: 'ended'; end: JobEnd; detail?: string }
  /** The scheduler no longer knows the job (it ended long ago, or never was). */
  | { phase: 'gone' }

/** A command and its arguments; {job_id}, {node}, {job_name} and {comment} are filled in. */
export interface CommandLine {
  cmd: string
  args: string[]
}

export interface CommandOutput {
  stdout: string
  stderr: string
  code: number
}

export interface SchedulerDefinition {
  /** Its name for people ("Slurm"). */
  name: string
  /** The default job script (settings' `template`): see template.ts for its placeholders. */
  template: string
  /** Submits the job script, given on standard input. */
  submit: CommandLine
  /** The job id in the submit command's output; throws when there is none. */
  parseSubmit(stdout: string): string
  /** Asks for one job's state. */
  query: CommandLine
  parseQuery(out: CommandOutput, jobId: string): JobState
  cancel: CommandLine
  /**
   * Asks how a job that left the queue ended (SGE's qacct, HTCondor's condor_history), when the
   * query no longer knows it; without it such a job is only "gone".
   */
  history?: { command: CommandLine; parse(out: CommandOutput): JobState }
  /** The job's place among the pending jobs, when the scheduler can tell. */
  queuePosition?: {
    command: CommandLine
    parse(stdout: string, jobId: string): { position: number; of: number } | undefined
  }
  /** The address of a node, when the scheduler knows it (Slurm's NodeAddr); else the node's name is looked up. */
  nodeAddress?: { command: CommandLine; parse(stdout: string): string | undefined }
  /** The jobs still queued or running, with their owners and comments (for list(hubId)). */
  list?: { command: CommandLine; parse(stdout: string): Array<{ jobId: string; owner: string; comment: string }> }
}

/** A walltime in minutes as HH:MM:SS (hours past 24 kept: 36:00:00). */
export function hms(minutes: number): string {
  const h = Math.floor(minutes / 60)
  const m = minutes % 60
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00`
}

/** The job id of a command line's output: the first match of `re`'s group 1, or a thrown error naming the scheduler. */
export function matchJobId(scheduler: string, re: RegExp, stdout: string): string {
  const m = re.exec(stdout)
  if (!m) throw new Error(`${scheduler} gave no job id: ${JSON.stringify(stdout.trim().slice(0, 200))}`)
  return m[1]
}
