// The batch spawners as plug-ins (spawners/src/index.ts registers them): one base, one scheduler
// definition each. Only Slurm is tested against a real scheduler; the others against recorded output.
import type { SpawnerPlugin } from '../plugin'
import { condorScheduler } from './condor'
import { lsfScheduler } from './lsf'
import { pbsScheduler } from './pbs'
import type { SchedulerDefinition } from './scheduler'
import { batchSettings } from './settings'
import { sgeScheduler } from './sge'
import { slurmScheduler } from './slurm'
import { createBatchSpawner } from './spawner'

function batchPlugin<K extends string>(kind: K, scheduler: SchedulerDefinition) {
  const settings = batchSettings(scheduler, kind)
  return {
    kind,
    settings,
    create: (s, ctx) => createBatchSpawner({ kind, scheduler, settings: s, ctx }),
    describePlace: (s) =>
      `${scheduler.name} jobs${s.partition ? ` in ${s.partition}` : ''}, ${process.getuid?.() === 0 ? `as Unix accounts ${s.userPrefix}NAME` : "as this hub's user"}, in their homes`,
    isolationNotice: () =>
      process.getuid?.() === 0
        ? undefined
        : `Every ${scheduler.name} job is submitted as the hub's own Unix user, so users' servers share one account: this is a single trust domain. Run the hub as root to submit each job as its user's account.`,
  } satisfies SpawnerPlugin<typeof settings>
}

export const slurm = batchPlugin('slurm', slurmScheduler)
export const pbs = batchPlugin('pbs', pbsScheduler)
export const lsf = batchPlugin('lsf', lsfScheduler)
export const sge = batchPlugin('sge', sgeScheduler)
export const condor = batchPlugin('condor', condorScheduler)
