// The LDAP authenticator as a plug-in (auth/src/index.ts registers it).
import type { AuthenticatorPlugin } from '../plugin'
import { createLdapAuthenticator } from './index'
import { ldapSettings, ldapSettingsProblems } from './settings'

export const ldap = {
  kind: 'ldap' as const,
  settings: ldapSettings,
  create: (settings) => createLdapAuthenticator(settings),
  settingsProblems: ldapSettingsProblems,
} satisfies AuthenticatorPlugin<typeof ldapSettings>
