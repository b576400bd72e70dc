// The native authenticator as a plug-in (auth/src/index.ts registers it).
import type { AuthenticatorPlugin } from '../plugin'
import { createNativeAuthenticator } from './index'
import { nativeSettings } from './settings'

export const native = {
  kind: 'native' as const,
  settings: nativeSettings,
  create: (settings, ctx) => createNativeAuthenticator({ ...settings, users: ctx.accounts }),
} satisfies AuthenticatorPlugin<typeof nativeSettings>
