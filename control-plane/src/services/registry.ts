// Configured services as the rest of the hub sees them: a route at /services/NAME/ for those with a
// URL, an OAuth client (service-NAME) and, for external ones with a token, that API token. Written by
// every replica at start (idempotent); managed services' tokens come from the supervisor.
import type { Deps } from '../deps'
import type { Config } from '../config/schema'
import type { OAuthClient } from '../oauth/clients'
import { edgeGrant } from '../scopes/edge'
import { serviceScopes } from '../scopes/resolve'

export type ServiceConfig = Config['services'][number]

export const servicePrefix = (name: string) => `/services/${name}/`
export const serviceClientId = (name: string) => `service-${name}`

/** host:port the proxy connects to, from the service URL. */
export function serviceTarget(url: string): string {
  const u = new URL(url)
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`
}

export function serviceClient(s: ServiceConfig): OAuthClient {
  return {
    id: serviceClientId(s.name),
    kind: 'service',
    user: '',
    server: '',
    service: s.name,
    description: `Service ${s.name}`,
    redirectUri: s.oauthRedirectUri ?? `${servicePrefix(s.name)}oauth_callback`,
    allowedScopes: s.oauthClientAllowedScopes,
    noConfirm: s.oauthNoConfirm,
  }
}

/** Registers a service's API token everywhere (hub, proxies, its OAuth client's secret). */
export async function registerServiceToken(d: Deps, s: ServiceConfig, token: string): Promise<void> {
  await d.tokens.setServiceToken(s.name, token, edgeGrant(serviceScopes(d, s.name)))
  await d.oauthClients.register(serviceClient(s), token)
}

export async function publishServices(d: Deps): Promise<void> {
  const configured = new Map(d.config.services.map((s) => [s.name, s]))
  for (const s of configured.values()) {
    if (s.url)
      await d.tables.set('routes', servicePrefix(s.name), {
        kind: 'service',
        name: s.name,
        target: serviceTarget(s.url),
        token: '',
      })
    if (s.apiToken) await registerServiceToken(d, s, s.apiToken)
    else await d.tokens.refreshServiceGrant(s.name, edgeGrant(serviceScopes(d, s.name))) // a managed one's current token: its roles may have changed
  }
  // services no longer configured: no token, no OAuth client
  for (const name of await d.tokens.servicesWithTokens()) {
    if (configured.has(name)) continue
    await d.tokens.revokeService(name)
    await d.oauthClients.remove(serviceClientId(name))
    d.log.info('revoked the tokens of a service no longer configured', { service: name })
  }
  // nor a route
  for (const [prefix, r] of Object.entries(await d.tables.getAll<{ kind?: string; name?: string }>('routes'))) {
    if (r.kind === 'service' && !configured.has(r.name ?? '')) await d.tables.del('routes', prefix)
  }
}
