// The local-process spawner as a plug-in (spawners/src/index.ts registers it).
import { join } from 'node:path'
import type { SpawnerPlugin } from '../plugin'
import { createLocalProcessSpawner } from './index'
import { localProcessSettings } from './settings'
import { perUserAccounts, serversWhere, SINGLE_TRUST_DOMAIN_NOTICE } from './run-as'

export const localProcess = {
  kind: 'local-process' as const,
  settings: localProcessSettings,
  create: (settings, ctx) =>
    createLocalProcessSpawner({ ...settings, defaultUrl: ctx.defaultUrl, dataDir: ctx.dataDir, log: ctx.log }),
  isolationNotice: () => (perUserAccounts() ? undefined : SINGLE_TRUST_DOMAIN_NOTICE),
  describePlace: (settings, ctx) => serversWhere(settings, join(ctx.dataDir, 'home')),
} satisfies SpawnerPlugin<typeof localProcessSettings>
