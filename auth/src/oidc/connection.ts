// The hub's client at the provider (openid-client's Configuration): discovered from the issuer on
// first use and kept, or built from explicit OAuth 2 endpoints. A failed discovery is tried again at
// the next use, so the hub starts while the provider is down.
import * as oidc from 'openid-client'
import type { ResolvedProvider } from './presets'

export interface Connection {
  /** The configuration, discovering it when not yet known. */
  get(): Promise<oidc.Configuration>
  /** The configuration if already known (logoutUrl is synchronous). */
  known(): oidc.Configuration | undefined
}

export function connect(
  p: ResolvedProvider,
  opts: { timeoutSec: number; authMethod: 'client_secret_basic' | 'client_secret_post' },
): Connection {
  const timeoutSec = opts.timeoutSec
  const auth = !p.clientSecret
    ? oidc.None()
    : opts.authMethod === 'client_secret_post'
      ? oidc.ClientSecretPost(p.clientSecret)
      : oidc.ClientSecretBasic(p.clientSecret)
  const insecure = (u: string) => new URL(u).protocol === 'http:' // loopback only (settings.ts)
  let pending: Promise<oidc.Configuration> | undefined
  let config: oidc.Configuration | undefined

  const finish = (c: oidc.Configuration, url: string) => {
    c.timeout = timeoutSec
    if (insecure(url)) oidc.allowInsecureRequests(c)
    config = c
    return c
  }

  const make = async (): Promise<oidc.Configuration> => {
    if (p.endpoints) {
      const server: oidc.ServerMetadata = {
        issuer: new URL(p.endpoints.authorize).origin,
        authorization_endpoint: p.endpoints.authorize,
        token_endpoint: p.endpoints.token,
        userinfo_endpoint: p.endpoints.userinfo,
        end_session_endpoint: p.endpoints.endSession,
        code_challenge_methods_supported: ['S256'],
      }
      return finish(new oidc.Configuration(server, p.clientId, undefined, auth), p.endpoints.authorize)
    }
    const issuer = p.issuer!
    const c = await oidc.discovery(new URL(issuer), p.clientId, undefined, auth, {
      timeout: timeoutSec,
      execute: insecure(issuer) ? [oidc.allowInsecureRequests] : [],
    })
    // the ID token's signature is checked against the provider's published keys, not only its claims
    oidc.enableNonRepudiationChecks(c)
    return finish(c, issuer)
  }

  return {
    get() {
      if (config) return Promise.resolve(config)
      pending ??= make().catch((err) => {
        pending = undefined // tried again at the next login
        throw err
      })
      return pending
    },
    known: () => config,
  }
}
