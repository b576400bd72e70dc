// Deleting a user: servers stopped and forgotten, sessions and tokens revoked on every proxy, group
// memberships and shares (of the user's servers, with the user) dropped, record gone.
import type { Deps } from '../deps'
import { publishAccess } from '../scopes/edge'

// The record goes first, so the user can neither log in nor start anything while the rest is undone.
export async function deleteUser(d: Deps, name: string): Promise<void> {
  await d.users.require(name)
  await d.users.remove(name)
  await d.sessions.revokeAll(name)
  await d.tokens.revokeAll(name)
  await d.groups.forgetUser(name)
  await d.shares.forgetUser(name)
  await publishAccess(d, name)
  for (const s of await d.servers.list(name)) await d.orchestrator.stop(name, s.name, { remove: true })
  d.log.info('deleted user', { user: name })
}
