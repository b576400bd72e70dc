// The spawner contract. State travels explicitly: start returns it, the hub stores it in Redis,
// and any replica can poll or stop the server with it.
import type { OptionsForm, SpawnUser } from './profiles'

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json }
export type SpawnerState = { [k: string]: Json }

export interface SpawnRequest {
  user: string
  server: string // '' = the default server
  baseUrl: string // /user/NAME/ or /user/NAME/SERVER/
  env: Record<string, string> // JUPYTERHUB_* and JUPYTER_TOKEN
  /** The user_options as checkOptions returned them (untrusted input when there is no checkOptions). */
  options: { [k: string]: Json }
  logFile: string
  /**
   * Reports a step of the start ("Pulling image x", "Pod scheduled"): shown on the spawn-pending page
   * and in the progress stream while the hub waits for start to return and the server to answer.
   */
  progress(message: string): void
}

export type ServerStatus =
  | { phase: 'pending'; message?: string }
  | { phase: 'running'; url: string; target: string }
  | { phase: 'stopped'; exitCode?: number; reason?: string }

export interface Spawner {
  /**
   * A string naming one running instance (a process id and start time, a container id): two states
   * with the same key are the same server; a restart has a new one.
   */
  instanceKey(state: SpawnerState): string
  /** The spawn page's form for this user (its profiles), or undefined when there is none to show. */
  optionsForm?(user: SpawnUser): OptionsForm | undefined
  /**
   * Checks user_options before a start (throws BadRequest naming the field: `user_options.profile: …`)
   * and returns them as they will be recorded and given to start. Without it, options are recorded as
   * given and the spawner must treat them as untrusted.
   */
  checkOptions?(user: SpawnUser, options: { [k: string]: Json }): { [k: string]: Json }
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
