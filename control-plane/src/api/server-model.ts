// JupyterHub's Server model (rest-api.yml, components/schemas/Server, 6.0): what the user model's
// `servers` and GET/PUT/PATCH /users/{name}/servers/{server} answer.
import type { Config } from '../config/schema'
import type { ServerSummary } from '../state/user-bundles'
import { progressUrl, serverBaseUrl } from '../spawn/orchestrator'
import { latest } from '../state/activity'
import { serverUrl } from '../http/subdomain'

/** The settings the model's URLs depend on. */
export type ServerUrlSettings = Pick<Config, 'subdomainHost' | 'publicUrl'>

/** The shown name: the one set (JupyterHub 6), else the server's name ('' for the default server). */
export const displayNameOf = (s: Pick<ServerSummary, 'name' | 'displayName'>) => s.displayName || s.name

/**
 * `url` is a full URL on the user's own host with subdomainHost, as in JupyterHub. `full_url` and
 * `full_progress_url` are null unless publicUrl is set (`full_url` also with subdomainHost): JupyterHub
 * fills them only when public_url (or subdomain_host) is configured.
 */
export function serverModel(u: string, s: ServerSummary, seen: number | undefined, urls: ServerUrlSettings) {
  const active = s.state !== 'stopped'
  const url = serverUrl(urls.subdomainHost, u, serverBaseUrl(u, s.name))
  const progress = progressUrl(u, s.name)
  const pub = urls.publicUrl?.replace(/\/$/, '')
  return {
    name: s.name,
    display_name: displayNameOf(s),
    ready: s.state === 'running',
    pending: s.state === 'pending' ? 'spawn' : s.state === 'stopping' ? 'stop' : null,
    stopped: !active,
    url,
    progress_url: progress,
    full_url: urls.subdomainHost ? url : pub ? `${pub}${url}` : null,
    full_progress_url: pub ? `${pub}${progress}` : null,
    started: active ? s.started : null,
    last_activity: latest(s.lastActivity, seen, s.started), // a start is activity, as in JupyterHub
    state: {},
    user_options: s.userOptions ?? {},
  }
}
