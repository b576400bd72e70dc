// Users named in the configuration (auth.admins, auth.allowed, groups) exist from the hub's start, as
// in JupyterHub: an admin can be given a token, a group or a server before their first login.
import { randomBytes } from 'node:crypto'
import type { Deps } from '../deps'
import { Conflict } from '../../../runtime/src/errors'
import { isAllowed, normalizeUsername } from '../../../auth/src'
import { configuredGroupMembers, loadConfiguredGroups } from './configured-groups'

export async function createConfiguredUsers(d: Deps): Promise<void> {
  const admins = new Set(d.config.auth.admins.map(normalizeUsername))
  const names = new Set([...admins, ...d.config.auth.allowed.map(normalizeUsername)])
  for (const name of names) {
    const admin = admins.has(name)
    const user = await d.users.get(name)
    if (user) {
      if (admin && !user.admin) await d.users.setAdmin(name, true)
      continue
    }
    // No password: with the native authenticator, `edgehub user add NAME` or an admin's add-user form sets one.
    await d.users.create(name, { admin }).then(
      () => d.log.info('created a user named in the configuration', { user: name, admin }),
      (err) => {
        if (!(err instanceof Conflict)) throw err // another replica made it meanwhile
      },
    )
  }
  await loadConfiguredGroups(d) // after the users above, so a configured admin is made an admin
}

/**
 * The one-machine stack's first admin: when no configured admin (or "admin", when none is
 * configured) has a password and no other user exists yet, the first gets a generated password,
 * returned to be shown once. Native authenticator only.
 */
export async function bootstrapFirstAdmin(d: Deps): Promise<{ name: string; password: string } | null> {
  if (!d.passwords) return null
  const configured = [
    ...new Set([
      ...[...d.config.auth.admins, ...d.config.auth.allowed].map(normalizeUsername),
      ...configuredGroupMembers(d.config),
    ]),
  ]
  const admins = d.config.auth.admins.map(normalizeUsername)
  const name = admins[0] ?? 'admin'
  if (!isAllowed(d.config.auth, name)) return null // "admin" kept out by auth.allowed / auth.blocked
  for (const n of new Set([name, ...admins])) if (await d.users.passwordHash(n)) return null
  const existingConfigured = (await d.users.getMany(configured)).filter(Boolean).length
  if ((await d.users.count()) > existingConfigured) return null // users were made some other way
  const password = randomBytes(12).toString('base64url')
  const passwordHash = await d.passwords.hash(password)
  if (await d.users.get(name)) {
    await d.users.setAdmin(name, true)
    await d.users.setPasswordHash(name, passwordHash)
  } else {
    await d.users.create(name, { admin: true, passwordHash })
  }
  return { name, password }
}
