// hub.shutdownOnLogout (JupyterHub's shutdown_on_logout): logging out stops the user's servers.
import type { Deps } from '../deps'

/**
 * Stops every running server of `user`, default and named, as JupyterHub does on logout: servers in
 * the middle of a start or a stop are left to finish (JupyterHub skips pending ones too). A stop that
 * fails is logged and does not keep the user from logging out.
 */
export async function stopServersOnLogout(deps: Pick<Deps, 'servers' | 'orchestrator' | 'log'>, user: string): Promise<void> {
  const running = (await deps.servers.list(user)).filter((s) => s.state === 'running')
  if (running.length) deps.log.info('stopping the servers of a user who logged out', { user, servers: running.length })
  await Promise.all(
    running.map((s) =>
      deps.orchestrator.stop(user, s.name).catch((err: Error) => deps.log.warn('could not stop a server on logout', { user, server: s.name, err: err.message })),
    ),
  )
}
