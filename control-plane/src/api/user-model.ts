// The user and server models of JupyterHub's REST API, showing only the fields the caller's scopes
// allow (as JupyterHub's access map does).
import type { Deps } from '../deps'
import type { UserRecord } from '../state/users'
import type { ServerSummary } from '../state/user-bundles'
import { serverBaseUrl } from '../spawn/orchestrator'
import { serverModel } from './server-model'
import { latest } from '../state/activity'
import { serverUrl } from '../http/subdomain'
import { has, targetFree, type ScopeSet } from '../scopes/scope-set'

const ACCESS: Record<string, readonly string[]> = {
  'read:users': ['kind', 'name', 'admin', 'roles', 'groups', 'server', 'pending', 'created', 'last_activity'],
  'read:users:name': ['kind', 'name', 'admin'],
  'read:users:groups': ['kind', 'name', 'groups'],
  'read:users:activity': ['kind', 'name', 'last_activity'],
  'read:servers': ['kind', 'name', 'servers'],
  'read:roles:users': ['kind', 'name', 'roles', 'admin'],
  // JupyterHub's auth_state: the decrypted state with auth.enableAuthState, else null; the key itself
  // shows who holds the scope, as in JupyterHub (admins do, users for themselves not)
  'admin:auth_state': ['kind', 'name', 'auth_state'],
}

/** The scopes that let a caller read a user (GET /users/NAME); admin:auth_state alone does not, as in JupyterHub. */
export const USER_READ_SCOPES = Object.keys(ACCESS).filter((s) => s !== 'admin:auth_state')
/** Every scope that shows some field of the model. */
const MODEL_SCOPES = Object.keys(ACCESS)
const ALL_FIELDS = new Set(Object.values(ACCESS).flat())

export { serverModel } from './server-model'

export interface ModelOptions {
  /** The caller's scopes; the model shows what they allow. Absent: everything. */
  scopes?: ScopeSet
  groups?: readonly string[]
  includeStopped?: boolean
}

/** The user model, or null when the scopes allow none of it. */
export async function userModel(d: Deps, u: UserRecord, o: ModelOptions = {}): Promise<Record<string, unknown> | null> {
  const groups = o.groups ?? (await d.groups.ofUser(u.name))
  const allowed = allowedFields(o.scopes, { user: u.name, groups })
  if (allowed.size === 0) return null
  const records = await d.servers.list(u.name)
  const seen = await d.activity.ofUser(
    u.name,
    records.map((s) => s.name),
  )
  return withAuthState(d, assemble(d, u, groups, allowed, records, seen, o))
}

/** JupyterHub's auth_state for holders of admin:auth_state: the decrypted state (auth.enableAuthState), else null. */
async function withAuthState(d: Deps, model: Record<string, unknown>): Promise<Record<string, unknown>> {
  if ('auth_state' in model && d.config.auth.enableAuthState)
    model.auth_state = (await d.authStates.get(model.name as string)) ?? null
  return model
}

/**
 * The models of a page of users, as userModel gives them one by one (users that do not exist are
 * left out, and so are those of whom the scopes allow nothing), read in one Redis call (UserBundles)
 * instead of several per user.
 */
export async function userModels(
  d: Deps,
  names: readonly string[],
  o: Omit<ModelOptions, 'groups'> = {},
): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = []
  // the same fields for every user unless a scope that shows some is filtered (an admin's are not)
  const fixed = !o.scopes || targetFree(o.scopes, ...MODEL_SCOPES) ? allowedFields(o.scopes, {}) : undefined
  for (const b of await d.userBundles.read(names)) {
    const allowed = fixed ?? allowedFields(o.scopes, { user: b.user.name, groups: b.groups })
    if (allowed.size) out.push(await withAuthState(d, assemble(d, b.user, b.groups, allowed, b.servers, b.seen, o)))
  }
  return out
}

function allowedFields(
  scopes: ScopeSet | undefined,
  target: { user?: string; groups?: readonly string[] },
): Set<string> {
  const allowed = new Set<string>()
  for (const [scope, fields] of Object.entries(ACCESS))
    if (!scopes || has(scopes, scope, target)) fields.forEach((f) => allowed.add(f))
  return allowed
}

function assemble(
  d: Deps,
  u: UserRecord,
  groups: readonly string[],
  allowed: Set<string>,
  records: readonly ServerSummary[],
  seen: Map<string, number>,
  o: Omit<ModelOptions, 'groups'>,
): Record<string, unknown> {
  const target = { user: u.name, groups }
  const def = records.find((s) => s.name === '' && s.state !== 'stopped')
  const full: Record<string, unknown> = {
    kind: 'user',
    name: u.name,
    admin: u.admin,
    roles: d.roles.ofUser(u.name, u.admin, groups),
    groups,
    server: def?.state === 'running' ? serverUrl(d.config.subdomainHost, u.name, serverBaseUrl(u.name, '')) : null,
    pending: def?.state === 'pending' ? 'spawn' : def?.state === 'stopping' ? 'stop' : null,
    created: u.created,
    last_activity: latest(u.lastActivity, ...seen.values()),
    auth_state: null,
  }
  let model = full
  if (allowed.size < ALL_FIELDS.size) {
    model = {}
    for (const [k, v] of Object.entries(full)) if (allowed.has(k)) model[k] = v
  }

  const servers: Record<string, unknown> = {}
  for (const s of records) {
    if (s.state === 'stopped' && !o.includeStopped) continue
    if (o.scopes && !has(o.scopes, 'read:servers', { ...target, server: `${u.name}/${s.name}` })) continue
    servers[s.name] = serverModel(u.name, s, seen.get(s.name), d.config)
  }
  if (allowed.has('servers') || Object.keys(servers).length) model.servers = servers
  return model
}
