// Renaming a user (PATCH /users/{name} with a new name). Servers must be stopped first: their URLs,
// routes and processes carry the name. Sessions end (cookies name the user); tokens and groups follow
// the user; stopped servers' records and shares (of the user's servers and with the user) are dropped.
import type { Deps } from '../deps'
import { BadRequest } from '../../../runtime/src/errors'
import { publishAccess } from '../scopes/edge'

export async function renameUser(d: Deps, from: string, to: string): Promise<void> {
  const servers = await d.servers.list(from)
  const active = servers.find((s) => s.state !== 'stopped')
  if (active) throw new BadRequest(`stop ${from}'s server ${active.name || '(default)'} before renaming the user`)
  await d.users.rename(from, to)
  await d.sessions.revokeAll(from)
  await d.tokens.reassign(from, to)
  await d.groups.renameUser(from, to)
  for (const s of servers) await d.servers.remove(from, s.name)
  await d.shares.forgetUser(from) // shares name servers by URL: they do not follow a rename
  await publishAccess(d, from)
  await publishAccess(d, to)
  d.log.info('renamed user', { user: from, to })
}
