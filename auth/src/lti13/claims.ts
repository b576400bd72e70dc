// Reading a verified LTI 1.3 launch: the claims the IMS specification names, the user name from a
// configured claim, the course and the user's roles in it as group names, and what of the launch
// is kept as auth_state for spawners.
import { HubError } from '../../../runtime/src/errors'
import type { Json } from '../authenticator'

export type Claims = { [k: string]: Json | undefined }

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/'
export const CLAIM = {
  messageType: `${LTI}message_type`,
  version: `${LTI}version`,
  deploymentId: `${LTI}deployment_id`,
  targetLinkUri: `${LTI}target_link_uri`,
  resourceLink: `${LTI}resource_link`,
  roles: `${LTI}roles`,
  context: `${LTI}context`,
  custom: `${LTI}custom`,
  lis: `${LTI}lis`,
  launchPresentation: `${LTI}launch_presentation`,
  toolPlatform: `${LTI}tool_platform`,
} as const

const isObject = (v: unknown): v is { [k: string]: Json } => !!v && typeof v === 'object' && !Array.isArray(v)

/**
 * The value of a claim, or of CLAIM.KEY (a key of an object claim; claim names are URLs with dots,
 * so the longest claim name that is a prefix is taken first).
 */
export function claimAt(claims: Claims, path: string): Json | undefined {
  if (path in claims) return claims[path]
  for (let i = path.lastIndexOf('.'); i > 0; i = path.lastIndexOf('.', i - 1)) {
    const head = claims[path.slice(0, i)]
    if (isObject(head)) return claimAt(head, path.slice(i + 1))
  }
  return undefined
}

/** The user name the claim gives; an error the person reads when it is missing. */
export function usernameFrom(claims: Claims, claim: string): string {
  const v = claimAt(claims, claim)
  if (typeof v === 'string' && v.length > 0) return v
  if (typeof v === 'number') return String(v)
  throw new HubError(403, `Your course's platform did not say who you are (no "${claim}" claim in the launch).`)
}

const MEMBERSHIP = /^http:\/\/purl\.imsglobal\.org\/vocab\/lis\/v2\/membership(?:\/[A-Za-z]+)?#([A-Za-z]+)$/

/**
 * The user's roles in the course, lower-cased short names: context roles (membership#Instructor,
 * membership/Instructor#TeachingAssistant, or the deprecated bare names); institution and system
 * roles are not about the course and are left out.
 */
export function courseRoles(claims: Claims): string[] {
  const roles = claims[CLAIM.roles]
  if (!Array.isArray(roles)) return []
  const out = new Set<string>()
  for (const r of roles.slice(0, 100)) {
    if (typeof r !== 'string') continue
    const name = MEMBERSHIP.exec(r)?.[1] ?? (/^[A-Za-z]{1,50}$/.test(r) ? r : undefined)
    if (name) out.add(name.toLowerCase())
  }
  return [...out]
}

/** The launch's course id, as it goes into a group name, or undefined without a context claim. */
export function courseId(claims: Claims): string | undefined {
  const ctx = claims[CLAIM.context]
  const id = isObject(ctx) ? ctx.id : undefined
  if (typeof id !== 'string' && typeof id !== 'number') return undefined
  const safe = String(id)
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 200)
  return safe && safe !== '.' && safe !== '..' ? safe : undefined
}

/** PREFIX+ID for any member of the course, PREFIX+ID-ROLE for each of their roles in it. */
export function courseGroups(claims: Claims, prefix: string): string[] {
  const id = courseId(claims)
  if (!id) return []
  return [`${prefix}${id}`, ...courseRoles(claims).map((r) => `${prefix}${id}-${r}`)]
}

/** What a spawner may want of the launch (JupyterHub's auth_state of ltiauthenticator): the LTI claims, no token. */
export function launchState(claims: Claims): { [k: string]: Json } {
  const state: { [k: string]: Json } = {}
  for (const k of ['iss', 'sub', 'name', 'given_name', 'family_name', 'email', 'locale'])
    if (claims[k] !== undefined) state[k] = claims[k] as Json
  const lti: { [k: string]: Json } = {}
  for (const claim of Object.values(CLAIM))
    if (claims[claim] !== undefined) lti[claim.slice(LTI.length)] = claims[claim] as Json
  state.lti = lti
  state.course_roles = courseRoles(claims)
  return state
}
