// The docker spawner as a plug-in (spawners/src/index.ts registers it).
import type { SpawnerPlugin } from '../plugin'
import { engineName } from './engine'
import { createDockerSpawner } from './index'
import { dockerSettings } from './settings'

export const docker = {
  kind: 'docker' as const,
  settings: dockerSettings,
  create: (settings, ctx) => createDockerSpawner({ ...settings, defaultUrl: ctx.defaultUrl, log: ctx.log }),
  isolationNotice: (settings) =>
    settings.network === 'host'
      ? "spawner.docker.network is host: users' containers share this machine's network, and reach the hub, Redis and each other's servers on its loopback"
      : undefined,
  describePlace: (settings) =>
    `Docker containers of ${settings.image} on ${engineName(settings.host)}, network ${settings.network}; homes in volumes ${settings.volumeNameTemplate}`,
} satisfies SpawnerPlugin<typeof dockerSettings>
