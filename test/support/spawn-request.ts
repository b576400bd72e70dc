// A spawn request as the hub's orchestrator gives it to a spawner (control-plane/src/spawn/orchestrator.ts):
// the server's base URL and the JupyterHub environment with the hub's mark, for tests that drive a
// spawner directly (the contract suite, the Docker and Kubernetes spawners' own tests).
import type { SpawnRequest } from '../../spawners/src'

export interface SpawnRequestOptions {
  user: string
  /** The server's name; '' (default) the user's default server. */
  server?: string
  /** The hub id the server is marked with (EDGEHUB_HUB_ID). */
  hubId: string
  /** The server's API token (JUPYTERHUB_API_TOKEN). */
  token: string
  logFile: string
  options?: SpawnRequest['options']
  /** Where progress messages go; default nowhere. */
  progress?: (message: string) => void
}

export function spawnRequest(o: SpawnRequestOptions): SpawnRequest {
  const server = o.server ?? ''
  const baseUrl = `/user/${encodeURIComponent(o.user)}/${server ? `${server}/` : ''}`
  return {
    user: o.user,
    server,
    baseUrl,
    env: {
      JUPYTERHUB_USER: o.user,
      JUPYTERHUB_SERVER_NAME: server,
      JUPYTERHUB_SERVICE_PREFIX: baseUrl,
      JUPYTERHUB_API_TOKEN: o.token,
      EDGEHUB_HUB_ID: o.hubId,
    },
    options: o.options ?? {},
    logFile: o.logFile,
    progress: o.progress ?? (() => {}),
  }
}
