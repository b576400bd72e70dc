// Deleting a user: servers stopped and forgotten, sessions and tokens revoked on every proxy, record gone.
import type { Deps } from '../deps'

export async function deleteUser(d: Deps, name: string): Promise<void> {
  await d.users.require(name)
  for (const s of await d.servers.list(name)) {
    await d.orchestrator.stop(name, s.name)
    await d.servers.remove(name, s.name)
    await d.activity.forget(name, s.name)
  }
  await d.sessions.revokeAll(name)
  await d.tokens.revokeAll(name)
  await d.users.remove(name)
  d.log.info('deleted user', { user: name })
}
