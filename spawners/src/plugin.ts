// What a spawner plug-in gives the hub: its kind (the value of spawner.kind), its settings under
// spawner.KIND (a zod schema with descriptions: validated at start, listed in docs/config.md), and a
// factory. The factory gets a narrow context, never the hub's internals; the server's environment
// (JupyterHub's variables, its token) comes with each start request. See docs/plugins.md.
import type { z } from 'zod'
import type { Spawner, SpawnerLogger } from './spawner'
import type { ServerReports } from './server-reports'

export interface SpawnerContext {
  /** The hub's data directory (edgehub's dataDir): where a spawner may keep files of its own. */
  dataDir: string
  /** spawner.defaultUrl (JupyterHub's Spawner.default_url), when set: give it to each server. */
  defaultUrl?: string
  log: SpawnerLogger
  /** What servers reported of themselves to the hub (a batch job's port): set by the hub, absent elsewhere. */
  serverReports?: ServerReports
}

export interface SpawnerPlugin<Settings extends z.ZodType = z.ZodType> {
  kind: string
  /** spawner.KIND's schema, with .prefault({}) when every setting has a default. */
  settings: Settings
  create(settings: z.output<Settings>, ctx: SpawnerContext): Spawner
  /**
   * One line for `edgehub up` and the admin page when users' servers are not kept apart from each
   * other and from the hub (a single trust domain); undefined when they are.
   */
  isolationNotice?(settings: z.output<Settings>): string | undefined
  /** Where servers run and keep their files, for `edgehub up`'s summary. */
  describePlace?(settings: z.output<Settings>, ctx: { dataDir: string }): string
}
