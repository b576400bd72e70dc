// The audit log's vocabulary: every security-relevant action the hub records, one JSON line each
// (docs/audit.md). Adding an action here is the whole of declaring it.
export const AUDIT_ACTIONS = [
  'login',
  'login.failure',
  'logout',
  'token.create',
  'token.revoke',
  'user.create',
  'user.delete',
  'user.modify', // admin flag, rename, roles: `changes` names which
  'group.create',
  'group.delete',
  'group.members.add',
  'group.members.remove',
  'group.properties',
  'group.modify', // roles of a group
  'server.start',
  'server.stop',
  'server.delete',
  'share.create',
  'share.modify',
  'share.revoke',
  'share-code.create',
  'share-code.revoke',
  'share.accept',
  'oauth.revoke',
  'oidc.revoke',
  'proxy.reload',
  'hub.shutdown',
  'password.change',
  'user.approve',
  'two-factor.reset',
  'login-failures.clear',
] as const

export type AuditAction = (typeof AUDIT_ACTIONS)[number]

/** Why a login failed, as a category: never the password, nor what the user typed as one. */
export type LoginFailure =
  | 'bad-credentials' // wrong password, unknown user, or refused by the authenticator
  | 'not-admitted' // authenticated, but not allowed on this hub
  | 'throttled'
  | 'invalid-username'
  | 'refused' // an identity provider's or course platform's login refused, not begun here, expired or not admitted

export type Outcome = 'success' | 'failure' | 'denied'

/** Who acted: a user (by cookie, or by a token they own), a service (its token), or nobody known. */
export type Actor = { kind: 'user'; name: string; via: 'cookie' | 'token' } | { kind: 'service'; name: string } | null

export interface AuditEvent {
  time: string
  action: AuditAction
  outcome: Outcome
  actor: Actor
  /** What the action is on: a user, `user/server`, a group, a token id, an OAuth client. */
  target: string | null
  /** The HTTP status the hub answered with. */
  status?: number
  client_address: string
  request_id: string
  /** Details that are no secret: the login failure category, the fields a change touched. */
  [detail: string]: unknown
}
