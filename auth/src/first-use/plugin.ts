// The first-use authenticator as a plug-in (auth/src/index.ts registers it).
import type { AuthenticatorPlugin } from '../plugin'
import { createFirstUseAuthenticator } from './index'
import { firstUseSettings } from './settings'

export const firstUse = {
  kind: 'first-use' as const,
  settings: firstUseSettings,
  create: (settings, ctx) => createFirstUseAuthenticator({ ...settings, users: ctx.accounts }),
} satisfies AuthenticatorPlugin<typeof firstUseSettings>
