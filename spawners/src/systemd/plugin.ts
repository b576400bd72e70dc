// The systemd spawner as a plug-in (spawners/src/index.ts registers it).
import type { SpawnerPlugin } from '../plugin'
import { createSystemdSpawner } from './index'
import { systemdSettings } from './settings'

export const systemd = {
  kind: 'systemd',
  settings: systemdSettings,
  create: (settings, ctx) =>
    createSystemdSpawner({ settings, dataDir: ctx.dataDir, defaultUrl: ctx.defaultUrl, log: ctx.log }),
  describePlace: (settings) =>
    `transient systemd units ${settings.unitPrefix}NAME.service, ${settings.dynamicUsers ? 'as dynamic users in /var/lib' : `as Unix accounts ${settings.userPrefix}NAME, in their homes`}`,
} satisfies SpawnerPlugin<typeof systemdSettings>
