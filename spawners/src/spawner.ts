// The spawner contract. State travels explicitly: start returns it, the hub stores it in Redis,
// and any replica can poll or stop the server with it.
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json }
export type SpawnerState = { [k: string]: Json }

export interface SpawnRequest {
  user: string
  server: string // '' = the default server
  baseUrl: string // /user/NAME/ or /user/NAME/SERVER/
  env: Record<string, string> // JUPYTERHUB_* and JUPYTER_TOKEN
  options: { [k: string]: Json }
  logFile: string
}

export type ServerStatus =
  | { phase: 'pending'; message?: string }
  | { phase: 'running'; url: string; target: string }
  | { phase: 'stopped'; exitCode?: number; reason?: string }

export interface Spawner {
  /** Starts the server; returns once it is submitted, with what is needed to find it again. */
  start(req: SpawnRequest, signal: AbortSignal): Promise<SpawnerState>
  poll(state: SpawnerState): Promise<ServerStatus>
  /** Idempotent. */
  stop(state: SpawnerState, opts?: { graceMs?: number }): Promise<void>
  /**
   * Every server process still running that was started with EDGEHUB_HUB_ID=hubId in its
   * environment, by any replica: how orphans (processes no record owns) are found.
   */
  list?(hubId: string): Promise<Array<{ user: string; server: string; state: SpawnerState }>>
  /** Called when a server this process started exits on its own (fast path; polling is the backstop). */
  onExit?(listener: (state: SpawnerState) => void): void
}

export interface SpawnerLogger {
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
}
