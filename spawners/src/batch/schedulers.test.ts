// Each scheduler's parsing of its commands' output, with recorded samples of that output (sbatch,
// squeue, scontrol; qsub, qstat -f of PBS Pro and Torque; bsub, bjobs -o; qsub -terse, qstat,
// qacct of Grid Engine; condor_submit, condor_q -af:t, condor_history). Only Slurm also runs
// against a real scheduler (test/contracts/spawners.test.ts, test/e2e/slurm/).
import { describe, expect, it } from 'vitest'
import { parseSqueue, slurmScheduler } from './slurm'
import { parseQstatFull, pbsScheduler } from './pbs'
import { lsfScheduler, parseBjobs } from './lsf'
import { parseQacct, parseQstatSge, sgeScheduler } from './sge'
import { condorScheduler, parseCondorQ } from './condor'

const ok = (stdout: string) => ({ stdout, stderr: '', code: 0 })
const fail = (stderr: string, code = 1) => ({ stdout: '', stderr, code })

describe('Slurm', () => {
  it('reads the job id of sbatch --parsable, with or without a cluster name', () => {
    expect(slurmScheduler.parseSubmit('4211\n')).toBe('4211')
    expect(slurmScheduler.parseSubmit('4211;cluster-a\n')).toBe('4211')
    expect(() => slurmScheduler.parseSubmit('sbatch: error: Batch job submission failed\n')).toThrow(/no job id/)
  })

  it('reads squeue --format=%T|%B|%r: queued with its reason, running on its batch host, and every end', () => {
    expect(parseSqueue(ok('PENDING|n/a|Priority\n'))).toEqual({ phase: 'queued', detail: 'Priority' })
    expect(parseSqueue(ok('PENDING|n/a|None\n'))).toEqual({ phase: 'queued', detail: undefined })
    expect(parseSqueue(ok('CONFIGURING|gpu-07|None\n'))).toEqual({ phase: 'queued', detail: 'configuring' })
    expect(parseSqueue(ok('RUNNING|cn042|None\n'))).toEqual({ phase: 'running', node: 'cn042' })
    expect(parseSqueue(ok('COMPLETING|cn042|None\n'))).toEqual({ phase: 'ending' })
    expect(parseSqueue(ok('TIMEOUT|cn042|TimeLimit\n'))).toEqual({
      phase: 'ended',
      end: 'timeout',
      detail: 'TimeLimit',
    })
    expect(parseSqueue(ok('NODE_FAIL|cn042|NodeDown\n'))).toEqual({
      phase: 'ended',
      end: 'node_fail',
      detail: 'NodeDown',
    })
    expect(parseSqueue(ok('CANCELLED|cn042|None\n'))).toMatchObject({ phase: 'ended', end: 'cancelled' })
    expect(parseSqueue(ok('OUT_OF_MEMORY|cn042|OutOfMemory\n'))).toMatchObject({ end: 'out_of_memory' })
    expect(parseSqueue(ok('COMPLETED|cn042|None\n'))).toMatchObject({ end: 'completed' })
  })

  it('takes an unknown job id for a job that is gone, and any other failure for an error', () => {
    expect(parseSqueue(fail('slurm_load_jobs error: Invalid job id specified\n'))).toEqual({ phase: 'gone' })
    expect(parseSqueue(ok(''))).toEqual({ phase: 'gone' })
    expect(() =>
      parseSqueue(fail('slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n')),
    ).toThrow(/connect failure/)
    expect(() => parseSqueue(ok('WEIRD|x|y\n'))).toThrow(/does not know/)
  })

  it('finds the place of a job among the pending ones, its node address, and the jobs of a list', () => {
    expect(slurmScheduler.queuePosition!.parse('4209\n4211\n4215\n', '4211')).toEqual({ position: 2, of: 3 })
    expect(slurmScheduler.queuePosition!.parse('4209\n', '4211')).toBeUndefined()
    const node =
      'NodeName=cn042 Arch=x86_64 CoresPerSocket=16 CPUAlloc=4 CPUTot=32 NodeAddr=10.1.4.42 NodeHostName=cn042 Version=22.05.8 OS=Linux 6.1.0 RealMemory=256000 State=MIXED Partitions=compute\n'
    expect(slurmScheduler.nodeAddress!.parse(node)).toBe('10.1.4.42')
    expect(slurmScheduler.list!.parse('4211|alice|edgehub:hub1:alice::0123\n4212|bob|a comment|with a bar\n')).toEqual([
      { jobId: '4211', owner: 'alice', comment: 'edgehub:hub1:alice::0123' },
      { jobId: '4212', owner: 'bob', comment: 'a comment|with a bar' },
    ])
  })
})

// qstat -f of PBS Pro 2022 for a running job (abridged: the attributes read, and some around them)
const PBSPRO_RUNNING = `Job Id: 8812.pbs01
    Job_Name = edgehub-alice
    Job_Owner = alice@login01
    resources_used.cpupercent = 0
    resources_used.walltime = 00:04:12
    job_state = R
    queue = workq
    server = pbs01
    Checkpoint = u
    ctime = Mon Dec  7 10:01:11 2026
    exec_host = cn017/0*4
    exec_vnode = (cn017:ncpus=4:mem=4194304kb)
    Resource_List.walltime = 08:00:00
    comment = Job run at Mon Dec 07 at 10:01 on (cn017:ncpus=4:mem=4194304kb)
`
// Torque 6: a job killed at its walltime, kept as C (completed) for keep_completed seconds
const TORQUE_WALLTIME = `Job Id: 553.torque.cluster
    Job_Name = edgehub-alice
    job_state = C
    queue = batch
    exec_host = node03/0+node03/1
    Resource_List.walltime = 01:00:00
    resources_used.walltime = 01:00:09
    Exit_status = -11
    comment = PBS: job killed: walltime 3609 exceeded limit 3600
`
const PBSPRO_NODE_FAIL = `Job Id: 8813.pbs01
    job_state = F
    exec_host = cn018/0
    Exit_status = -1
    comment = Job failed, node cn018 down
`

describe('PBS Pro and Torque', () => {
  it('reads the job id of qsub', () => {
    expect(pbsScheduler.parseSubmit('8812.pbs01\n')).toBe('8812.pbs01')
    expect(pbsScheduler.parseSubmit('553.torque.cluster\n')).toBe('553.torque.cluster')
  })

  it('reads qstat -f: queued, running on the first exec_host, walltime and node failure', () => {
    expect(parseQstatFull(ok(PBSPRO_RUNNING))).toEqual({ phase: 'running', node: 'cn017' })
    expect(parseQstatFull(ok(TORQUE_WALLTIME))).toMatchObject({ phase: 'ended', end: 'timeout' })
    expect(parseQstatFull(ok(PBSPRO_NODE_FAIL))).toMatchObject({ phase: 'ended', end: 'node_fail' })
    expect(
      parseQstatFull(
        ok('Job Id: 9.pbs01\n    job_state = Q\n    comment = Not Running: Insufficient amount of resource: ncpus\n'),
      ),
    ).toEqual({ phase: 'queued', detail: 'Not Running: Insufficient amount of resource: ncpus' })
    expect(parseQstatFull(ok('Job Id: 9.pbs01\n    job_state = F\n    Exit_status = 0\n'))).toMatchObject({
      end: 'completed',
    })
    expect(parseQstatFull(ok('Job Id: 9.pbs01\n    job_state = F\n    Exit_status = -29\n'))).toMatchObject({
      end: 'timeout',
    })
    expect(parseQstatFull(ok('Job Id: 9.pbs01\n    job_state = E\n'))).toEqual({ phase: 'ending' })
  })

  it('takes an unknown or finished job id for a job that is gone', () => {
    expect(parseQstatFull(fail('qstat: Unknown Job Id 8812.pbs01\n', 153))).toEqual({ phase: 'gone' })
    expect(
      parseQstatFull(
        fail('qstat: 8812.pbs01 Job has finished, use -x or -H to obtain historical job information\n', 35),
      ),
    ).toEqual({ phase: 'gone' })
    expect(() =>
      parseQstatFull(fail('Connection refused\nqstat: cannot connect to server pbs01 (errno=111)\n', 1)),
    ).toThrow()
  })
})

describe('LSF', () => {
  it('reads the job id of bsub', () => {
    expect(lsfScheduler.parseSubmit('Job <73411> is submitted to queue <normal>.\n')).toBe('73411')
  })

  it("reads bjobs -o 'stat exec_host exit_code exit_reason delimiter=|': every state", () => {
    expect(parseBjobs(ok('PEND|-|-|-\n'))).toEqual({ phase: 'queued', detail: undefined })
    expect(parseBjobs(ok('PSUSP|-|-|-\n'))).toEqual({ phase: 'queued', detail: 'psusp' })
    expect(parseBjobs(ok('RUN|4*hpc-n12:4*hpc-n13|-|-\n'))).toEqual({ phase: 'running', node: 'hpc-n12' })
    expect(parseBjobs(ok('RUN|hpc-n12|-|-\n'))).toEqual({ phase: 'running', node: 'hpc-n12' })
    expect(parseBjobs(ok('EXIT|hpc-n12|140|TERM_RUNLIMIT: job killed after reaching LSF run time limit\n'))).toEqual({
      phase: 'ended',
      end: 'timeout',
      detail: 'TERM_RUNLIMIT: job killed after reaching LSF run time limit',
    })
    expect(parseBjobs(ok('EXIT|hpc-n12|130|TERM_OWNER: job killed by owner\n'))).toMatchObject({ end: 'cancelled' })
    expect(parseBjobs(ok('EXIT|hpc-n12|1|-\n'))).toMatchObject({ end: 'failed' })
    expect(parseBjobs(ok('DONE|hpc-n12|-|-\n'))).toMatchObject({ end: 'completed' })
    expect(parseBjobs(ok('UNKWN|hpc-n12|-|-\n'))).toMatchObject({ end: 'node_fail' })
    expect(parseBjobs({ stdout: '', stderr: 'Job <73411> is not found\n', code: 255 })).toEqual({ phase: 'gone' })
  })
})

// qstat -u '*' of Son of Grid Engine 8.1.9
const SGE_QSTAT = `job-ID  prior   name       user         state submit/start at     queue                          slots ja-task-ID 
-----------------------------------------------------------------------------------------------------------------
    301 0.55500 edgehub-al alice        r     12/07/2026 10:02:33 all.q@node05.cluster               1        
    302 0.55500 edgehub-bo bob          qw    12/07/2026 10:03:01                                    4        
    303 0.00000 edgehub-ca carol        Eqw   12/07/2026 10:03:40                                    1        
    304 0.55500 edgehub-da dan          dr    12/07/2026 10:01:10 all.q@node06.cluster               1        
    305 0.55500 edgehub-ed ed           hqw   12/07/2026 10:04:00                                    1        
`
const QACCT_HRT = `==============================================================
qname        all.q               
hostname     node05.cluster      
group        alice               
owner        alice               
jobname      edgehub-alice       
jobnumber    301                 
qsub_time    Mon Dec  7 10:02:30 2026
start_time   Mon Dec  7 10:02:33 2026
end_time     Mon Dec  7 11:02:33 2026
failed       37  : qmaster enforced h_rt, h_cpu, or h_vmem limit
exit_status  137                 (Killed)
ru_wallclock 3600s
`

describe('Grid Engine', () => {
  it('reads the job id of qsub -terse', () => {
    expect(sgeScheduler.parseSubmit('301\n')).toBe('301')
    expect(sgeScheduler.parseSubmit('301.1-4:1\n')).toBe('301')
  })

  it("reads qstat -u '*': running on the queue's host, queued, held, error, being deleted, gone", () => {
    expect(parseQstatSge(ok(SGE_QSTAT), '301')).toEqual({ phase: 'running', node: 'node05.cluster' })
    expect(parseQstatSge(ok(SGE_QSTAT), '302')).toEqual({ phase: 'queued', detail: undefined })
    expect(parseQstatSge(ok(SGE_QSTAT), '303')).toMatchObject({ phase: 'ended', end: 'failed' })
    expect(parseQstatSge(ok(SGE_QSTAT), '304')).toEqual({ phase: 'ending' })
    expect(parseQstatSge(ok(SGE_QSTAT), '305')).toEqual({ phase: 'queued', detail: 'held' })
    expect(parseQstatSge(ok(SGE_QSTAT), '399')).toEqual({ phase: 'gone' })
  })

  it('reads qacct -j: a job killed at its h_rt ended at its time limit', () => {
    expect(parseQacct(ok(QACCT_HRT))).toMatchObject({ phase: 'ended', end: 'timeout' })
    expect(parseQacct(ok('failed       0    \nexit_status  0                   \n'))).toEqual({
      phase: 'ended',
      end: 'completed',
    })
    expect(parseQacct(fail('error: job id 399 not found\n'))).toEqual({ phase: 'gone' })
  })
})

describe('HTCondor', () => {
  it('reads the cluster of condor_submit as job CLUSTER.0', () => {
    expect(condorScheduler.parseSubmit('Submitting job(s).\n1 job(s) submitted to cluster 1187.\n')).toBe('1187.0')
  })

  it('reads condor_q -af:t JobStatus RemoteHost RemoveReason HoldReason', () => {
    expect(parseCondorQ(ok('1\tundefined\tundefined\tundefined\n'))).toEqual({ phase: 'queued' })
    expect(parseCondorQ(ok('2\tslot1_3@exec07.pool.example.org\tundefined\tundefined\n'))).toEqual({
      phase: 'running',
      node: 'exec07.pool.example.org',
    })
    expect(parseCondorQ(ok('5\tundefined\tundefined\tFailed to initialize user log to /home/alice/x.log\n'))).toEqual({
      phase: 'queued',
      detail: 'held: Failed to initialize user log to /home/alice/x.log',
    })
    expect(
      parseCondorQ(
        ok(
          "3\tundefined\tThe job attribute PeriodicRemove expression '(JobStatus == 2) && (time() - EnteredCurrentStatus > 28800)' evaluated to TRUE\tundefined\n",
        ),
      ),
    ).toMatchObject({ phase: 'ended', end: 'timeout' })
    expect(parseCondorQ(ok('3\tundefined\tvia condor_rm (by user alice)\tundefined\n'))).toMatchObject({
      end: 'cancelled',
    })
    expect(parseCondorQ(ok('4\tundefined\tundefined\tundefined\n'))).toMatchObject({ end: 'completed' })
    expect(parseCondorQ(ok(''))).toEqual({ phase: 'gone' })
  })
})
