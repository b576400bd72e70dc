// Renaming a user (PATCH /users/{name} with a new name). Servers must be stopped first: their URLs,
// routes and processes carry the name. Sessions end (cookies name the user); tokens, groups and
// stopped servers' records follow the user.
import type { Deps } from '../deps'
import { BadRequest } from '../errors'
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
  await publishAccess(d, from)
  await publishAccess(d, to)
  d.log.info('renamed user', { user: from, to })
}
