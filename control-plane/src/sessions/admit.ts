// What the hub does with every identity an authenticator gives (password form, redirect callback,
// request login, refresh): JupyterHub's login policy, then the user's record. The name is normalized
// and checked; blocked, allowed and admin come from the configuration and the groups the identity
// reports; auth.manageGroups makes the hub's groups follow those; the auth state is kept encrypted.
import { Conflict, HubError } from '../../../runtime/src/errors'
import { checkUsername, isAdmin, isAllowed, type Identity } from '../../../auth/src'
import { groupNameProblem } from '../state/groups'
import { publishAccess } from '../scopes/edge'
import type { Deps } from '../deps'

export type Admission = { ok: true; name: string } | { ok: false; name?: string; why: string }

/**
 * Admits an identity: the user's name when they may log in (their record made or updated), else
 * why not (for the log; the person reads the same refusal whatever it is).
 */
export async function admit(d: Deps, identity: Identity): Promise<Admission> {
  let name: string
  try {
    name = checkUsername(identity.name)
  } catch (err) {
    if (err instanceof HubError) return { ok: false, why: err.message }
    throw err
  }
  const policy = d.config.auth
  // the groups the identity provider reports decide this login; without any, the hub's own
  const groups = identity.groups ?? (await d.groups.ofUser(name))
  if (!isAllowed(policy, name, groups))
    return { ok: false, name, why: 'not allowed by auth.allowed, auth.allowedGroups or auth.blocked' }
  const byConfig = isAdmin(policy, name, groups)
  // with auth.adminGroups, the reported groups decide: a user who left them is no longer an admin
  // (unless in auth.admins), as OAuthenticator's admin_groups
  const byGroups = policy.adminGroups.length > 0 && identity.groups !== undefined
  const admin = byConfig || identity.admin === true ? true : identity.admin === false || byGroups ? false : undefined
  const user = await d.users.get(name)
  if (!user)
    await d.users.create(name, { admin: admin ?? false }).catch((err) => {
      if (!(err instanceof Conflict)) throw err // made by another replica's login a moment ago
    })
  if (user && admin !== undefined && admin !== user.admin) await d.users.setAdmin(name, admin)
  let changed = false
  if (policy.manageGroups && identity.groups) changed = await followGroups(d, name, identity.groups)
  await d.authStates.checked(name, identity.authState, { via: identity.via })
  if (changed || (user && admin !== undefined && admin !== user.admin)) await publishAccess(d, name)
  return { ok: true, name }
}

/** auth.manageGroups: the user joins the reported groups (made when missing) and leaves the others. */
async function followGroups(d: Deps, name: string, reported: readonly string[]): Promise<boolean> {
  const wanted = new Set<string>()
  for (const g of reported.slice(0, 1000)) {
    const problem = groupNameProblem(g)
    if (problem) d.log.warn('a group the authenticator reported was skipped', { user: name, group: g, problem })
    else wanted.add(g)
  }
  const current = new Set(await d.groups.ofUser(name))
  let changed = false
  for (const g of wanted) {
    if (current.has(g)) continue
    if (!(await d.groups.get(g)))
      await d.groups.create(g).catch((err) => {
        if (!(err instanceof Conflict)) throw err
      })
    await d.groups.addUsers(g, [name])
    changed = true
  }
  for (const g of current) {
    if (wanted.has(g)) continue
    await d.groups.removeUsers(g, [name]).catch(() => {}) // deleted meanwhile
    changed = true
  }
  return changed
}
