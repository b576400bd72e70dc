// /hub/home: the person's servers (default and named) with their state and last activity, the
// servers others share with them, and the services the admin lists. Its new-server form posts here.
import { Hono } from 'hono'
import type { HubEnv } from '../http/env'
import { can, serverTarget } from '../http/authorize'
import { serverBaseUrl } from '../spawn/orchestrator'
import { checkNewServerName } from '../spawn/new-server-name'
import { latest } from '../state/activity'
import { displayedServices, HomePage, type SharedServer } from './home'
import { type C, form, onHost, viewer } from './page-kit'

/** At most this many servers shared with the person are listed on the page. */
const SHARED_LISTED_MAX = 50

/** Last activity of each of the servers, as the REST API's server model reports it (a start counts). */
async function lastActivity(
  c: C,
  owner: string,
  servers: ReadonlyArray<{ name: string; lastActivity: string | null; started: string | null }>,
) {
  const seen = await c.var.deps.activity.ofUser(
    owner,
    servers.map((s) => s.name),
  )
  return Object.fromEntries(servers.map((s) => [s.name, latest(s.lastActivity, seen.get(s.name), s.started)]))
}

/** Servers shared with the person (directly or through a group), each once. */
async function sharedWith(c: C, name: string): Promise<SharedServer[]> {
  const d = c.var.deps
  const shares = await d.shares.sharedWith(name, await d.groups.ofUser(name))
  const refs = [...new Map(shares.map((s) => [`${s.owner}/${s.server}`, s])).values()].slice(0, SHARED_LISTED_MAX)
  return Promise.all(
    refs.map(async (s) => ({
      owner: s.owner,
      server: s.server,
      href: onHost(c, s.owner, serverBaseUrl(s.owner, s.server)),
      ready: (await d.servers.get(s.owner, s.server))?.state === 'running',
    })),
  )
}

/** The servers (by name) the person may share: holds `shares` on each, as the sharing page requires. */
async function mayShare(c: C, owner: string, names: string[]): Promise<Set<string>> {
  const allowed = await Promise.all(names.map(async (n) => can(c, 'shares', await serverTarget(c, owner, n, 'shares'))))
  return new Set(names.filter((_, i) => allowed[i]))
}

export function homePages(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  app.get('/home', async (c) => {
    const d = c.var.deps
    const name = c.var.identity!.user.name
    const servers = await d.servers.list(name)
    const named = d.config.hub.allowNamedServers
      ? { servers: servers.filter((s) => s.name), limit: d.config.hub.namedServerLimitPerUser }
      : undefined
    const [activity, shared, shareable] = await Promise.all([
      lastActivity(c, name, servers),
      sharedWith(c, name),
      mayShare(c, name, ['', ...servers.filter((s) => s.name).map((s) => s.name)]),
    ])
    return c.html(
      <HomePage
        xsrf={c.var.xsrf}
        user={viewer(c)!}
        server={servers.find((s) => !s.name)}
        baseUrl={serverBaseUrl(name, '')}
        passwords={!!d.passwords}
        twoFactor={!!d.authenticator.secondFactor}
        named={named}
        services={displayedServices(d.config.services)}
        activity={activity}
        mayShare={shareable.has('')}
        shareable={shareable}
        sharedWithMe={shared}
      />,
    )
  })

  // The new-server form: its name checked (a readable page when it is not a new server's name), then
  // the same POST goes on to /hub/spawn/USER/NAME (307 keeps the method and the form, XSRF field too),
  // which checks the person's scopes and the limit of named servers.
  app.post('/home', async (c) => {
    const f = await form(c)
    const name = checkNewServerName((f.server_name ?? '').trim())
    const owner = c.var.identity!.user.name
    return c.redirect(`/hub/spawn/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`, 307)
  })
  return app
}
