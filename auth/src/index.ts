// The authenticators' entry module: the registry of authenticator plug-ins by kind, the contract
// every authenticator implements, and the login policy (normalise, allowed, blocked, admins). The hub
// reaches authenticators only through this module (test/unit/import-rules.test.ts); a new one adds
// itself to AUTHENTICATORS and runs the shared contract suite (docs/plugins.md).
import type { z } from 'zod'
import type { AuthContext, AuthenticatorPlugin } from './plugin'
import type { Authenticator } from './authenticator'
import { native } from './native/plugin'
import { dummy } from './dummy/plugin'
import { oidc } from './oidc/plugin'
import { firstUse } from './first-use/plugin'
import { remoteUser } from './remote-user/plugin'
import { ldap } from './ldap/plugin'
import { lti13 } from './lti13/plugin'
import { pam } from './pam/plugin'
import { kerberos } from './kerberos/plugin'

export const AUTHENTICATORS = {
  native,
  dummy,
  oidc,
  'first-use': firstUse,
  'remote-user': remoteUser,
  ldap,
  lti13,
  pam,
  kerberos,
} satisfies Record<string, AuthenticatorPlugin>

export type AuthKind = keyof typeof AUTHENTICATORS
export const AUTH_KINDS = Object.keys(AUTHENTICATORS) as [AuthKind, ...AuthKind[]]

/** Each kind's settings, under auth.KIND in the configuration. */
export const authenticatorSettings = Object.fromEntries(
  Object.entries(AUTHENTICATORS).map(([k, p]) => [k, p.settings]),
) as {
  [K in AuthKind]: (typeof AUTHENTICATORS)[K]['settings']
}

type SettingsOf<K extends AuthKind> = z.output<(typeof AUTHENTICATORS)[K]['settings']>

/** The configured authenticator: auth.kind's plug-in, made with auth.KIND's settings. */
export function createAuthenticator(
  auth: { kind: AuthKind } & { [K in AuthKind]: SettingsOf<K> },
  ctx: AuthContext,
): Authenticator {
  const plugin: AuthenticatorPlugin<(typeof AUTHENTICATORS)[AuthKind]['settings']> = AUTHENTICATORS[auth.kind]
  return plugin.create(auth[auth.kind], ctx)
}

/** The configured authenticator's own checks of its settings (AuthenticatorPlugin.settingsProblems). */
export function authenticatorSettingsProblems(auth: { kind: AuthKind } & { [K in AuthKind]: SettingsOf<K> }): string[] {
  const plugin: AuthenticatorPlugin<(typeof AUTHENTICATORS)[AuthKind]['settings']> = AUTHENTICATORS[auth.kind]
  return plugin.settingsProblems?.(auth[auth.kind]) ?? []
}

export type { AuthContext, AuthenticatorPlugin } from './plugin'
export type {
  Authenticator,
  Identity,
  Json as AuthJson,
  LoginInput,
  PasswordManagement,
  RedirectLogin,
  RequestLoginResult,
} from './authenticator'
export type { PasswordAccounts } from './native'
export * from './policy'
