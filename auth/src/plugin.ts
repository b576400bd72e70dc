// What an authenticator plug-in gives the hub: its kind (the value of auth.kind), its settings under
// auth.KIND (a zod schema with descriptions: validated at start, listed in docs/config.md), and a
// factory that gets a narrow context, never the hub's internals. See docs/plugins.md.
import type { z } from 'zod'
import type { Authenticator } from './authenticator'
import type { PasswordAccounts } from './native'

export interface AuthContext {
  /** The hub's user store, as far as passwords go. */
  accounts: PasswordAccounts
}

export interface AuthenticatorPlugin<Settings extends z.ZodType = z.ZodType> {
  kind: string
  /** auth.KIND's schema, with .prefault({}) when every setting has a default. */
  settings: Settings
  create(settings: z.output<Settings>, ctx: AuthContext): Authenticator
  /**
   * Checks the schema cannot make alone (its settings are read whatever auth.kind is), made only when
   * this kind is configured: one line per problem, naming the key (`auth.KIND.key: …`).
   */
  settingsProblems?(settings: z.output<Settings>): string[]
}
