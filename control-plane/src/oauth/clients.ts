// OAuth clients of the hub's JupyterHub-compatible OAuth provider: one per single-user server
// (jupyterhub-user-NAME[-SERVER], registered at spawn, its secret the server's API token) and one per
// service (service-NAME). Kept in Redis so every replica can authorize for every client.
import type { Redis } from 'ioredis'
import type { KeyNames } from '../state/keys'
import { tokenDigest } from '../state/token-digest'
import { timingSafeEqual } from 'node:crypto'

export interface OAuthClient {
  id: string
  kind: 'server' | 'service'
  /** Server clients: owner and server name. */
  user: string
  server: string
  /** Service clients: the service name. */
  service: string
  description: string
  redirectUri: string
  /** Scopes the client may ask for beyond identifying the user and accessing itself. */
  allowedScopes: string[]
  /** Skip the consent page for everyone (operator-trusted services). */
  noConfirm: boolean
}

export function serverClientId(user: string, server: string): string {
  return `jupyterhub-user-${encodeURIComponent(user)}${server ? `-${encodeURIComponent(server)}` : ''}`
}

export class OAuthClients {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
  ) {}

  async register(client: OAuthClient, secret: string): Promise<void> {
    await this.redis.hset(this.keys.oauthClient(client.id), {
      ...client,
      allowedScopes: JSON.stringify(client.allowedScopes),
      noConfirm: client.noConfirm ? '1' : '0',
      secret: tokenDigest(secret),
    })
  }

  async get(id: string): Promise<OAuthClient | undefined> {
    const h = await this.redis.hgetall(this.keys.oauthClient(id))
    if (!h.id) return undefined
    return {
      id: h.id,
      kind: h.kind === 'service' ? 'service' : 'server',
      user: h.user ?? '',
      server: h.server ?? '',
      service: h.service ?? '',
      description: h.description ?? h.id,
      redirectUri: h.redirectUri,
      allowedScopes: JSON.parse(h.allowedScopes || '[]'),
      noConfirm: h.noConfirm === '1',
    }
  }

  async checkSecret(id: string, secret: string): Promise<boolean> {
    const stored = await this.redis.hget(this.keys.oauthClient(id), 'secret')
    if (!stored) return false
    const given = Buffer.from(tokenDigest(secret))
    return given.length === stored.length && timingSafeEqual(given, Buffer.from(stored))
  }

  async remove(id: string): Promise<void> {
    await this.redis.del(this.keys.oauthClient(id))
  }
}
