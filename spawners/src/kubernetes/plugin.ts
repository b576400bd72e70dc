// The kubernetes spawner as a plug-in (spawners/src/index.ts registers it).
import type { SpawnerPlugin } from '../plugin'
import { createKubernetesSpawner } from './index'
import { kubernetesSettings } from './settings'

export const kubernetes = {
  kind: 'kubernetes' as const,
  settings: kubernetesSettings,
  create: (settings, ctx) => createKubernetesSpawner(settings, { log: ctx.log, defaultUrl: ctx.defaultUrl }),
  describePlace: (settings) =>
    `pods in namespace ${settings.namespace}${settings.storage.enabled ? `, homes on volume claims ${settings.storage.pvcNameTemplate}` : ''}`,
} satisfies SpawnerPlugin<typeof kubernetesSettings>
