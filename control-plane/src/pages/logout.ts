// hub.shutdownOnLogout (JupyterHub's shutdown_on_logout): logging out stops the user's servers.
import type { Context } from 'hono'
import type { Deps } from '../deps'
import type { HubEnv } from '../http/env'

/**
 * Whether a logout came from the hub's own pages, or was typed or bookmarked: only such a logout
 * stops servers. Logout is a GET (as in JupyterHub) and the session cookie is SameSite=Lax, so a
 * link on another site, or (with subdomainHost) an image on a user's page, logs the visitor out;
 * it must not also stop their servers and kernels. Browsers say where a request came from in
 * Sec-Fetch-Site; without it, the Referer must be the hub's own host.
 */
export function logoutFromOwnPages(c: Context<HubEnv>): boolean {
  const site = c.req.header('sec-fetch-site')
  if (site !== undefined) return site === 'same-origin' || site === 'none'
  const referer = c.req.header('referer')
  if (!referer) return false
  try {
    return new URL(referer).host === c.req.header('host')
  } catch {
    return false
  }
}

/**
 * Stops every running server of `user`, default and named, as JupyterHub does on logout: servers in
 * the middle of a start or a stop are left to finish (JupyterHub skips pending ones too). A stop that
 * fails is logged and does not keep the user from logging out.
 */
export async function stopServersOnLogout(
  deps: Pick<Deps, 'servers' | 'orchestrator' | 'log'>,
  user: string,
): Promise<void> {
  const running = (await deps.servers.list(user)).filter((s) => s.state === 'running')
  if (running.length) deps.log.info('stopping the servers of a user who logged out', { user, servers: running.length })
  await Promise.all(
    running.map((s) =>
      deps.orchestrator
        .stop(user, s.name)
        .catch((err: Error) =>
          deps.log.warn('could not stop a server on logout', { user, server: s.name, err: err.message }),
        ),
    ),
  )
}
