// JupyterHub's refresh_user: the authenticator checks a logged-in user again (a token refreshed at
// the identity provider, group membership re-read). Asked for when the last check is older than
// auth.refreshAgeSec (at the hub's pages and on a schedule), and before a spawn with
// auth.refreshBeforeSpawn. A user the authenticator no longer vouches for, or whom the login policy
// now keeps out, loses every session and must log in again.
import type { Deps } from '../deps'
import { admit } from './admit'

export type Refreshed = 'valid' | 'expired' | 'not-refreshed'

/**
 * A user the authenticator no longer vouches for: every session ends, and so does every token they
 * hold but their servers' own (a running server keeps working until stopped; its owner cannot start
 * another without logging in again).
 */
async function endLogins(d: Deps, name: string): Promise<void> {
  await d.sessions.revokeAll(name)
  for (const t of await d.tokens.list(name)) if (t.kind !== 'server') await d.tokens.revoke(t.id)
}

export async function refreshUser(d: Deps, name: string, opts: { force?: boolean } = {}): Promise<Refreshed> {
  const refresh = d.authenticator.refresh
  if (!refresh) return 'not-refreshed'
  const maxAgeMs = d.config.auth.refreshAgeSec * 1000
  if (!opts.force) {
    if (maxAgeMs === 0) return 'not-refreshed'
    const age = await d.authStates.age(name)
    if (age !== undefined && age < maxAgeMs) return 'valid'
  }
  let identity: Awaited<ReturnType<typeof refresh>>
  try {
    identity = await refresh({ name, authState: await d.authStates.get(name), via: await d.authStates.via(name) })
  } catch (err) {
    // the identity provider unreachable: a page still opens (checked again at the next request); a
    // spawn (forced) is refused with the error
    if (opts.force) throw err
    d.log.warn('refreshing a user failed; tried again later', { user: name, err: (err as Error).message })
    return 'valid'
  }
  if (identity === undefined) {
    await d.authStates.checked(name, undefined)
    return 'valid'
  }
  const admitted = identity && (await admit(d, { ...identity, name }))
  if (admitted?.ok) return 'valid'
  await endLogins(d, name)
  d.log.info('a refresh ended the login', { user: name, why: admitted ? admitted.why : 'the authenticator refused' })
  return 'expired'
}

/** The scheduled refresh: users with active servers whose last check is older than auth.refreshAgeSec. */
export async function refreshActiveUsers(d: Deps, limit = 1000): Promise<number> {
  if (!d.authenticator.refresh || d.config.auth.refreshAgeSec === 0) return 0
  const users = [...new Set((await d.servers.active()).map((s) => s.user))].slice(0, limit)
  let expired = 0
  for (const user of users) {
    try {
      if ((await refreshUser(d, user)) === 'expired') expired++
    } catch (err) {
      d.log.warn('refreshing a user failed; tried again next time', { user, err: (err as Error).message })
    }
  }
  return expired
}
