// The sudo spawner as a plug-in (spawners/src/index.ts registers it).
import type { SpawnerPlugin } from '../plugin'
import { createSudoSpawner } from './index'
import { sudoSettings } from './settings'

export const sudo = {
  kind: 'sudo',
  settings: sudoSettings,
  create: (settings, ctx) => createSudoSpawner({ ...settings, defaultUrl: ctx.defaultUrl, log: ctx.log }),
  describePlace: (settings) =>
    `as Unix accounts ${settings.userPrefix}NAME through sudo and ${settings.mediator[0]}, in their homes`,
} satisfies SpawnerPlugin<typeof sudoSettings>
