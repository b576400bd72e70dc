// The Kerberos authenticator as a plug-in (auth/src/index.ts registers it).
import type { AuthenticatorPlugin } from '../plugin'
import { createKerberosAuthenticator } from './index'
import { kerberosSettings, kerberosSettingsProblems } from './settings'

export const kerberos = {
  kind: 'kerberos' as const,
  settings: kerberosSettings,
  create: (settings) => createKerberosAuthenticator(settings),
  settingsProblems: kerberosSettingsProblems,
} satisfies AuthenticatorPlugin<typeof kerberosSettings>
