// The remote-user authenticator as a plug-in (auth/src/index.ts registers it).
import type { AuthenticatorPlugin } from '../plugin'
import { createRemoteUserAuthenticator } from './index'
import { remoteUserSettings } from './settings'

export const remoteUser = {
  kind: 'remote-user' as const,
  settings: remoteUserSettings,
  create: (settings) => createRemoteUserAuthenticator(settings),
} satisfies AuthenticatorPlugin<typeof remoteUserSettings>
