// The LTI 1.3 authenticator as a plug-in (auth/src/index.ts registers it).
import type { AuthenticatorPlugin } from '../plugin'
import { createLti13Authenticator } from './index'
import { lti13Settings, lti13SettingsProblems } from './settings'

export const lti13 = {
  kind: 'lti13' as const,
  settings: lti13Settings,
  create: (settings) => createLti13Authenticator(settings),
  settingsProblems: lti13SettingsProblems,
} satisfies AuthenticatorPlugin<typeof lti13Settings>
