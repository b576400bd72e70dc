// The PAM authenticator as a plug-in (auth/src/index.ts registers it).
import type { AuthenticatorPlugin } from '../plugin'
import { createPamAuthenticator } from './index'
import { pamSettings } from './settings'

export const pam = {
  kind: 'pam' as const,
  settings: pamSettings,
  create: (settings) => createPamAuthenticator(settings),
} satisfies AuthenticatorPlugin<typeof pamSettings>
