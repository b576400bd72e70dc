// oidc-provider configured for the hub: issuer <publicUrl>/hub/oidc, the clients of the config,
// storage and keys in Redis, logins taken from the hub's own session (interactions.ts), claims from
// the user's record (claims.ts). Only the code flow (PKCE for public clients) and refresh tokens.
import type { default as ProviderType, ClientMetadata, Configuration } from 'oidc-provider'
import type { Config } from '../config/schema'
import type { Deps } from '../deps'
import { sessionCookieValue } from '../sessions/cookie'
import { findAccount, OIDC_SCOPES, SCOPE_CLAIMS } from './claims'
import { logoutSource, postLogoutSuccessSource, renderError } from './pages'
import { redisAdapter } from './redis-adapter'
import { oidcKeyNames } from '../state/keys'
import { providerJwks, type KeySet } from './signing-keys'

export type Provider = ProviderType
export type OidcClientConfig = Config['oidc']['clients'][number]

/** Where the provider is mounted in the hub; its issuer is the public URL plus this. */
export const OIDC_MOUNT = '/hub/oidc'

export const issuerOf = (d: Pick<Deps, 'publicUrl'>) => `${d.publicUrl}${OIDC_MOUNT}`

/** Codes are redeemed by the client's back end within seconds; interactions take a login at most. */
const AUTHORIZATION_CODE_TTL_SEC = 60
const INTERACTION_TTL_SEC = 600

export const COOKIE_NAMES = {
  session: 'edgehub-oidc-session',
  interaction: 'edgehub-oidc-interaction',
  resume: 'edgehub-oidc-resume',
}

export function clientMetadata(c: OidcClientConfig): ClientMetadata {
  return {
    client_id: c.clientId,
    ...(c.clientSecret
      ? {
          client_secret: c.clientSecret,
          token_endpoint_auth_method: c.tokenEndpointAuthMethod ?? 'client_secret_basic',
        }
      : { token_endpoint_auth_method: 'none' }),
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope: (c.allowedScopes ?? OIDC_SCOPES).join(' '),
  }
}

/** The OIDC session lives as long as a hub session; a grant as long as the tokens issued under it. */
export function lifetimes(config: Config) {
  const session = Math.floor(config.sessions.maxAgeSec)
  const o = config.oidc
  return {
    AccessToken: o.accessTokenTtlSec,
    IdToken: o.idTokenTtlSec,
    RefreshToken: o.refreshTokenTtlSec,
    AuthorizationCode: AUTHORIZATION_CODE_TTL_SEC,
    Interaction: INTERACTION_TTL_SEC,
    Session: session,
    Grant: Math.max(o.refreshTokenTtlSec, session),
  }
}

export async function createProvider(d: Deps, keySet: KeySet): Promise<Provider> {
  // loaded on first use: the hub starts (and its tests run) without it
  const { default: Provider, errors, interactionPolicy } = await import('oidc-provider')
  const log = d.log.child('oidc')

  // The login prompt also comes up when the browser's hub session has ended or is another user's:
  // the OIDC session never outlives the hub login it came from.
  const policy = interactionPolicy.base()
  policy.get('login')!.checks.add(
    new interactionPolicy.Check(
      'hub_session',
      'the hub session ended or belongs to another user',
      'login_required',
      async (ctx) => {
        const session = await d.sessions.verify(sessionCookieValue(ctx.get('cookie') || undefined))
        return session && session.user === ctx.oidc.session?.accountId
          ? interactionPolicy.Check.NO_NEED_TO_PROMPT
          : interactionPolicy.Check.REQUEST_PROMPT
      },
    ),
  )

  const configuration: Configuration = {
    adapter: redisAdapter(d.redis, oidcKeyNames(d.keys.prefix), errors),
    clients: d.config.oidc.clients.map(clientMetadata),
    jwks: providerJwks(keySet),
    cookies: {
      keys: keySet.cookie.map((c) => c.secret),
      names: COOKIE_NAMES,
      long: { httpOnly: true, sameSite: 'lax', path: `${OIDC_MOUNT}/` },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    scopes: [...OIDC_SCOPES],
    claims: SCOPE_CLAIMS,
    // scope claims go in the ID token too, not only at userinfo
    conformIdTokenClaims: false,
    findAccount: findAccount(d),
    interactions: { url: (_ctx, interaction) => `${OIDC_MOUNT}/interaction/${interaction.uid}`, policy },
    features: {
      devInteractions: { enabled: false },
      // a client revokes its own tokens only
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    },
    responseTypes: ['code'],
    // every code flow gets a refresh token (not only with offline_access)
    issueRefreshToken: (_ctx, client, source) =>
      client.grantTypeAllowed('refresh_token') && source.kind === 'AuthorizationCode',
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    ttl: lifetimes(d.config),
    renderError,
    // browsers may call the token and userinfo endpoints from a client's own origin
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((u) => new URL(u).origin === origin) ?? false,
  }
  const provider = new Provider(issuerOf(d), configuration)
  // The hub is only reached through the edge proxy; routes.ts sets the forwarded scheme and host
  // from the issuer, so every URL the provider makes names the issuer's origin.
  provider.proxy = true
  provider.on('server_error', (ctx, err) => log.error('failed to answer an oidc request', { path: ctx.path, err }))
  return provider
}
