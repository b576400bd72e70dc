// The dummy authenticator as a plug-in (auth/src/index.ts registers it).
import type { AuthenticatorPlugin } from '../plugin'
import { createDummyAuthenticator } from './index'
import { dummySettings } from './settings'

export const dummy = {
  kind: 'dummy' as const,
  settings: dummySettings,
  create: (settings) => createDummyAuthenticator(settings),
} satisfies AuthenticatorPlugin<typeof dummySettings>
