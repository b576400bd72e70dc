// The OpenID Connect / OAuth 2 authenticator as a plug-in (auth/src/index.ts registers it).
import type { AuthenticatorPlugin } from '../plugin'
import { createOidcAuthenticator } from './index'
import { oidcSettingsProblems } from './presets'
import { oidcSettings } from './settings'

export const oidc = {
  kind: 'oidc' as const,
  settings: oidcSettings,
  create: (settings) => createOidcAuthenticator(settings),
  settingsProblems: oidcSettingsProblems,
} satisfies AuthenticatorPlugin<typeof oidcSettings>
