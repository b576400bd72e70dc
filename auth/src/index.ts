// The authenticators' entry module: the registry of authenticator plug-ins by kind, the contract
// every authenticator implements, and the login policy (normalise, allowed, blocked, admins). The hub
// reaches authenticators only through this module (test/unit/import-rules.test.ts); a new one adds
// itself to AUTHENTICATORS and runs the shared contract suite (docs/plugins.md).
import type { z } from 'zod'
import type { AuthContext, AuthenticatorPlugin } from './plugin'
import type { Authenticator } from './authenticator'
import { sideBySide } from './side-by-side'
import { ConfigError } from '../../runtime/src/errors'
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

type AuthConfig = { kind: AuthKind; also?: readonly AuthKind[] } & { [K in AuthKind]: SettingsOf<K> }

function createOne(kind: AuthKind, auth: AuthConfig, ctx: AuthContext): Authenticator {
  const plugin: AuthenticatorPlugin<(typeof AUTHENTICATORS)[AuthKind]['settings']> = AUTHENTICATORS[kind]
  return plugin.create(auth[kind], ctx)
}

/**
 * The configured authenticator: auth.kind's plug-in, made with auth.KIND's settings, and those of
 * auth.also beside it on the login page (side-by-side.ts). A combination that cannot work is a
 * ConfigError naming auth.also.
 */
export function createAuthenticator(auth: AuthConfig, ctx: AuthContext): Authenticator {
  const kinds = [auth.kind, ...(auth.also ?? [])]
  const made = kinds.map((k) => createOne(k, auth, ctx))
  const problems: string[] = []
  if (new Set(kinds).size !== kinds.length) problems.push('auth.also: lists auth.kind, or a kind twice')
  const count = (has: (a: Authenticator) => unknown) => made.filter(has).length
  if (count((a) => a.redirect) > 1)
    problems.push('auth.also: at most one authenticator with an identity provider (oidc, lti13) side by side')
  if (count((a) => a.requestLogin) > 1)
    problems.push('auth.also: at most one authenticator that reads the request (remote-user, kerberos) side by side')
  if (count((a) => a.passwords) > 1)
    problems.push('auth.also: at most one authenticator whose passwords the hub keeps (native, first-use) side by side')
  if (problems.length) throw new ConfigError(`edgehub: invalid configuration\n  ${problems.join('\n  ')}`)
  return sideBySide(made)
}

/** The configured authenticator's own checks of its settings (AuthenticatorPlugin.settingsProblems). */
export function authenticatorSettingsProblems(auth: AuthConfig): string[] {
  return [auth.kind, ...(auth.also ?? [])].flatMap((kind) => {
    const plugin: AuthenticatorPlugin<(typeof AUTHENTICATORS)[AuthKind]['settings']> = AUTHENTICATORS[kind]
    return plugin.settingsProblems?.(auth[kind]) ?? []
  })
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
