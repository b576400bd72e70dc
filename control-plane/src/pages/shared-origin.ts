// The admin page's warning when people other than a server's owner may open it while every server
// is served on the hub's own origin (no subdomainHost): a script in the owner's pages then runs with
// the hub's origin as the visitor (docs/subdomains.md).
import type { Config } from '../config/schema'

/** Whether configured roles let anyone open or share others' servers (admins' own grant aside). */
function othersOpenServers(config: Config): boolean {
  return config.roles.some(
    (r) => r.name !== 'admin' && r.scopes.some((s) => s.startsWith('access:servers') || s.startsWith('shares')),
  )
}

/** The warning, or undefined when there is nothing to warn about. */
export function sharedOriginNotice(config: Config): string | undefined {
  if (config.subdomainHost) return undefined
  const who = [
    config.proxy.adminAccess ? "admins open users' servers (proxy.adminAccess)" : '',
    othersOpenServers(config) ? "roles let users open or share others' servers" : '',
  ]
    .filter(Boolean)
    .join(', and ')
  if (!who) return undefined
  return `Every user's server is served on the hub's own address, and ${who}: a script in a server's pages then runs as whoever opens it, with access to the hub. Set subdomainHost to give each server a host of its own (docs/subdomains.md).`
}
