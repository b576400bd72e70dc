// The spawners' entry module: the registry of spawner plug-ins by kind, the contract every spawner
// implements, and the few helpers the hub shares with them. The hub reaches spawners only through
// this module (test/unit/import-rules.test.ts); a new spawner adds itself to SPAWNERS and runs the
// shared contract suite (docs/plugins.md).
import type { z } from 'zod'
import type { SpawnerPlugin } from './plugin'
import { localProcess } from './local-process/plugin'
import { kubernetes } from './kubernetes/plugin'
import { docker } from './docker/plugin'
import { condor, lsf, pbs, sge, slurm } from './batch/plugin'
import { sudo } from './sudo/plugin'
import { systemd } from './systemd/plugin'

export const SPAWNERS = {
  'local-process': localProcess,
  kubernetes,
  docker,
  slurm,
  pbs,
  lsf,
  sge,
  condor,
  sudo,
  systemd,
} satisfies Record<string, SpawnerPlugin>

export type SpawnerKind = keyof typeof SPAWNERS
export const SPAWNER_KINDS = Object.keys(SPAWNERS) as [SpawnerKind, ...SpawnerKind[]]

/** Each kind's settings, under spawner.KIND in the configuration. */
export const spawnerSettings = Object.fromEntries(Object.entries(SPAWNERS).map(([k, p]) => [k, p.settings])) as {
  [K in SpawnerKind]: (typeof SPAWNERS)[K]['settings']
}

type SettingsOf<K extends SpawnerKind> = z.output<(typeof SPAWNERS)[K]['settings']>

/**
 * What the configured spawner says of itself for the operator: `isolation`, a line when users'
 * servers are not kept apart (a single trust domain), and `place`, where servers run.
 */
export function spawnerNotes(
  spawner: { kind: SpawnerKind } & { [K in SpawnerKind]: SettingsOf<K> },
  dataDir: string,
): { isolation?: string; place?: string } {
  const plugin: SpawnerPlugin<(typeof SPAWNERS)[SpawnerKind]['settings']> = SPAWNERS[spawner.kind]
  const settings = spawner[spawner.kind]
  return { isolation: plugin.isolationNotice?.(settings), place: plugin.describePlace?.(settings, { dataDir }) }
}

export type { SpawnerContext, SpawnerPlugin } from './plugin'
export type { Json, ServerStatus, SpawnRequest, Spawner, SpawnerLogger, SpawnerState } from './spawner'
export { defaultUrlProblem, landingUrl } from './default-url'
export type { OptionsForm, SpawnUser } from './profiles'
export { tokenDigest, type ServerReport, type ServerReports } from './server-reports'
