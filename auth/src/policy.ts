// Username rules and the allow/block/admin lists, applied around every authenticator
// (JupyterHub's normalize_username / validate_username / check_allowed).
import { BadRequest } from '../../runtime/src/errors'

const MAX_NAME = 255

/** Lower-cases, as JupyterHub's default normalize_username does. */
export function normalizeUsername(name: string): string {
  return name.normalize('NFC').toLowerCase()
}

/** Why a (normalized) name is not valid, or null when it is. */
export function usernameProblem(name: string): string | null {
  if (!name) return 'the name is empty'
  if (name.length > MAX_NAME) return `the name is longer than ${MAX_NAME} characters`
  if (name !== name.trim()) return 'the name starts or ends with white space'
  if (name.includes('/')) return 'the name contains "/"'
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'the name contains a control character'
  if (name === '.' || name === '..') return 'the name is "." or ".."'
  return null
}

/** Normalizes and validates a name from user input; BadRequest names the rule it breaks. */
export function checkUsername(raw: string): string {
  const name = normalizeUsername(raw)
  const problem = usernameProblem(name)
  if (problem) throw new BadRequest(`invalid user name: ${problem}`, 'invalid_name')
  return name
}

export interface AccessPolicy {
  admins: string[]
  allowed: string[]
  blocked: string[]
  /** Members of these groups (as the authenticator reports them, or as the hub keeps them) may log in. */
  allowedGroups?: string[]
  /** Members of these groups are admins (JupyterHub's admin_groups of OAuthenticator and LDAP). */
  adminGroups?: string[]
}

const among = (list: readonly string[] | undefined, groups: readonly string[]) =>
  !!list?.length && groups.some((g) => list.includes(g))

/** Is this (normalized) user an admin by the configuration: auth.admins, or a group in auth.adminGroups? */
export function isAdmin(policy: AccessPolicy, name: string, groups: readonly string[] = []): boolean {
  return policy.admins.map(normalizeUsername).includes(name) || among(policy.adminGroups, groups)
}

/**
 * May this (normalized) user log in at all? Never when blocked; always when an admin; else when
 * nothing limits who may (no auth.allowed, no auth.allowedGroups), when listed in auth.allowed, or
 * when in one of auth.allowedGroups (JupyterHub's allowed_users and allowed_groups).
 */
export function isAllowed(policy: AccessPolicy, name: string, groups: readonly string[] = []): boolean {
  if (policy.blocked.map(normalizeUsername).includes(name)) return false
  if (isAdmin(policy, name, groups)) return true
  if (policy.allowed.length === 0 && !policy.allowedGroups?.length) return true
  return policy.allowed.map(normalizeUsername).includes(name) || among(policy.allowedGroups, groups)
}
