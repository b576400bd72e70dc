// The environment JupyterHub's Spawner.get_env gives a server (JupyterHub 2 and later pass no
// command-line flags: jupyterhub-singleuser learns everything from here), for what the hub's own
// variables (SpawnRequest.env) leave to the spawner: where the server listens, its root directory
// and landing page, and the OAuth variables JupyterHub sets alongside the hub's.
import { formatDefaultUrl } from './default-url'

export interface ServerPlace {
  user: string
  server: string
  /** The server's URL path, /user/NAME/ or /user/NAME/SERVER/. */
  baseUrl: string
  ip: string
  port: number
  /** The root directory the operator chose (JupyterHub's notebook_dir); unset: the server's working directory. */
  rootDir?: string
  /** JupyterHub's default_url, placeholders unfilled. */
  defaultUrl?: string
}

/** `http://IP:PORT/BASE/`: where the server binds, as JupyterHub's JUPYTERHUB_SERVICE_URL (an IPv6 address in brackets). */
export function serviceUrl(ip: string, port: number, baseUrl: string): string {
  return `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}${baseUrl}`
}

/**
 * The whole JUPYTERHUB_* environment of a server: the hub's variables, completed with those
 * JupyterHub also sets. Where the server listens, its root and its landing page are the spawner's
 * to say; the rest only fills in what the hub left out.
 */
export function jupyterhubEnv(hub: Record<string, string>, place: ServerPlace): Record<string, string> {
  const accessScopes = hub.JUPYTERHUB_OAUTH_ACCESS_SCOPES
  const filledIn: Record<string, string> = {
    // JupyterHub sets both: JUPYTERHUB_OAUTH_SCOPES is the name before 3.0, which older servers read
    ...(accessScopes ? { JUPYTERHUB_OAUTH_SCOPES: accessScopes } : {}),
    // the scopes the server's OAuth client hands out: access to this server only (JupyterHub's default)
    JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: JSON.stringify([`access:servers!server=${place.user}/${place.server}`]),
    // the server's cookies keep their plain names (JupyterHub's cookie_host_prefix_enabled: false)
    JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED: '0',
  }
  return {
    ...filledIn,
    ...hub,
    JUPYTERHUB_SERVICE_URL: serviceUrl(place.ip, place.port, place.baseUrl),
    ...(place.rootDir ? { JUPYTERHUB_ROOT_DIR: place.rootDir } : {}),
    ...(place.defaultUrl ? { JUPYTERHUB_DEFAULT_URL: formatDefaultUrl(place.defaultUrl, place.user) } : {}),
  }
}
