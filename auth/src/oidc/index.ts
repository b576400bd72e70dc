// oidc: logins at an OpenID Connect provider (or a plain OAuth 2 one, GitHub) with the authorization
// code flow and PKCE. The hub keeps the flow under its state; this keeps the PKCE verifier and the
// nonce in it, checks the ID token (signature, issuer, audience, expiry, nonce), reads userinfo, and
// maps claims to the user's name and groups. Refresh uses the refresh token; logout goes to the
// provider's end-session endpoint.
import * as oidc from 'openid-client'
import { HubError } from '../../../runtime/src/errors'
import type { Authenticator, Identity, Json } from '../authenticator'
import { type Claims, groupsFrom, usernameFrom } from './claims'
import { connect } from './connection'
import { GithubApiError, githubUser } from './github'
import { resolveProvider } from './presets'
import type { OidcSettings } from './settings'

type AuthState = { [k: string]: Json }
type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers

/** The provider answered with an OAuth error (invalid_grant: a used or revoked code or refresh token). */
const oauthError = (err: unknown): string | undefined =>
  err instanceof oidc.ResponseBodyError || err instanceof oidc.AuthorizationResponseError ? err.error : undefined

/** A failure at the provider, as the person reads it on the hub's page (never a token or secret). */
function providerFailed(err: unknown): HubError {
  const code = oauthError(err)
  if (code) return new HubError(403, `The identity provider did not confirm this login (${code}). Log in again.`)
  if (err instanceof HubError) return err
  // an answer that does not check out: a missing or wrong issuer, a bad ID token signature, a nonce
  if (err instanceof oidc.ClientError && err.code && err.code !== 'OAUTH_TIMEOUT')
    return new HubError(403, `The identity provider's answer did not check out (${err.code}). Log in again.`)
  return new HubError(
    502,
    'The identity provider could not be reached, or its answer was not understood. Try again later.',
    'bad_gateway',
    {
      cause: err,
      expose: true,
    },
  )
}

export function createOidcAuthenticator(s: OidcSettings, env: NodeJS.ProcessEnv = process.env): Authenticator {
  const provider = resolveProvider(s, env)
  const conn = connect(provider, { timeoutSec: s.httpTimeoutSec, authMethod: s.tokenEndpointAuthMethod })
  const github = provider.preset === 'github'
  const isOidc = !provider.endpoints
  conn.get().catch(() => {}) // discover early, so logoutUrl knows the end-session endpoint; retried at use
  const allowedOrgs = s.allowedOrganizations.map((o) => o.toLowerCase())

  /** The user's claims and groups from a token response (ID token, then userinfo or GitHub's API). */
  async function who(
    c: oidc.Configuration,
    tokens: Tokens,
    previous?: Claims,
  ): Promise<{ claims: Claims; groups?: string[] }> {
    if (github) {
      const g = await githubUser(c, tokens.access_token, s.githubApiUrl)
      return { claims: g.claims, groups: g.groups }
    }
    // a new ID token says it all (a group left is gone from it); without one, the last login's claims
    let claims: Claims = (tokens.claims() as Claims | undefined) ?? { ...(previous ?? {}) }
    const sub = typeof claims.sub === 'string' ? claims.sub : undefined
    if (isOidc && provider.userinfo && c.serverMetadata().userinfo_endpoint) {
      const info = await oidc.fetchUserInfo(c, tokens.access_token, sub ?? oidc.skipSubjectCheck)
      claims = { ...claims, ...(info as Claims) }
    } else if (!isOidc) {
      const res = await oidc.fetchProtectedResource(
        c,
        tokens.access_token,
        new URL(provider.endpoints!.userinfo!),
        'GET',
      )
      if (!res.ok) throw new HubError(403, `The identity provider's userinfo endpoint answered ${res.status}.`)
      claims = { ...claims, ...((await res.json()) as Claims) }
    }
    return { claims, groups: groupsFrom(claims, provider.groupsClaim) }
  }

  /** The identity for these claims, or a refusal the person reads (a domain or organisation not allowed). */
  function identityOf(claims: Claims, groups: string[] | undefined, state: AuthState): Identity {
    const name = usernameFrom(claims, provider.usernameClaim)
    if (s.hostedDomains.length > 0) {
      const hd = typeof claims.hd === 'string' ? claims.hd.toLowerCase() : ''
      if (!s.hostedDomains.includes(hd))
        throw new HubError(403, `This hub takes accounts of ${s.hostedDomains.join(', ')} only.`)
    }
    if (github && allowedOrgs.length > 0) {
      const mine = new Set((groups ?? []).map((g) => g.toLowerCase()))
      if (!allowedOrgs.some((o) => mine.has(o)))
        throw new HubError(403, `This hub takes members of ${s.allowedOrganizations.join(', ')} only.`)
    }
    return { name, groups, authState: state }
  }

  function stateOf(tokens: Tokens, claims: Claims, previous?: AuthState): AuthState {
    const expiresIn = tokens.expiresIn()
    const state: AuthState = {
      access_token: tokens.access_token,
      claims,
      expires_at: expiresIn === undefined ? null : Math.floor(Date.now() / 1000) + expiresIn,
    }
    const refreshToken = tokens.refresh_token ?? previous?.refresh_token
    const idToken = tokens.id_token ?? previous?.id_token
    if (typeof refreshToken === 'string') state.refresh_token = refreshToken
    if (typeof idToken === 'string') state.id_token = idToken
    return state
  }

  return {
    kind: 'oidc',
    passwordForm: false,
    async authenticate() {
      return null // no password form: logins go through the provider
    },
    redirect: {
      label: provider.label,
      auto: s.autoLogin,
      async begin({ state, callbackUrl }) {
        const c = await conn.get().catch((err: unknown) => {
          throw providerFailed(err)
        })
        const verifier = oidc.randomPKCECodeVerifier()
        const params: Record<string, string> = {
          redirect_uri: callbackUrl,
          scope: provider.scopes.join(' '),
          state,
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        }
        const flow: { [k: string]: Json } = { verifier, state }
        if (isOidc) {
          const nonce = oidc.randomNonce()
          params.nonce = nonce
          flow.nonce = nonce
        }
        if (provider.preset === 'google' && s.hostedDomains.length === 1) params.hd = s.hostedDomains[0]!
        return { url: oidc.buildAuthorizationUrl(c, params).href, flow }
      },
      async complete({ params, flow, callbackUrl }) {
        try {
          const c = await conn.get()
          const current = new URL(callbackUrl)
          for (const [k, v] of params) current.searchParams.append(k, v)
          const tokens = await oidc.authorizationCodeGrant(c, current, {
            pkceCodeVerifier: String(flow.verifier),
            expectedState: String(flow.state),
            expectedNonce: typeof flow.nonce === 'string' ? flow.nonce : undefined,
            idTokenExpected: isOidc,
          })
          const { claims, groups } = await who(c, tokens)
          return identityOf(claims, groups, stateOf(tokens, claims))
        } catch (err) {
          throw providerFailed(err)
        }
      },
    },

    async refresh({ authState }) {
      if (!authState || typeof authState.access_token !== 'string') return undefined // nothing kept to check with
      const previous = (authState.claims ?? {}) as Claims
      try {
        const c = await conn.get()
        if (typeof authState.refresh_token === 'string' && !github) {
          const tokens = await oidc.refreshTokenGrant(c, authState.refresh_token)
          const { claims, groups } = await who(c, tokens, previous)
          return identityOf(claims, groups, stateOf(tokens, claims, authState))
        }
        // no refresh token (GitHub's tokens do not expire): the access token must still answer
        const expiresAt = typeof authState.expires_at === 'number' ? authState.expires_at : undefined
        if (expiresAt !== undefined && expiresAt * 1000 < Date.now()) return null
        const fake = { access_token: authState.access_token, claims: () => undefined } as unknown as Tokens
        const { claims, groups } = await who(c, fake, previous)
        return identityOf(claims, groups, { ...authState, claims })
      } catch (err) {
        if (oauthError(err) === 'invalid_grant' || oauthError(err) === 'invalid_token') return null
        if (err instanceof oidc.WWWAuthenticateChallengeError || (err instanceof GithubApiError && err.status === 401))
          return null
        if (err instanceof HubError && err.status === 403) return null // no longer allowed (domain, organisation)
        throw providerFailed(err)
      }
    },

    logoutUrl(authState, afterLogout) {
      if (!s.logoutAtProvider) return undefined
      const c = conn.known()
      if (!c?.serverMetadata().end_session_endpoint) return undefined
      const params: Record<string, string> = { post_logout_redirect_uri: afterLogout, client_id: provider.clientId }
      if (typeof authState?.id_token === 'string') params.id_token_hint = authState.id_token
      return oidc.buildEndSessionUrl(c, params).href
    },

    spawnEnv(authState) {
      const token = authState?.access_token
      return s.accessTokenEnv && typeof token === 'string' ? { [s.accessTokenEnv]: token } : {}
    },
  }
}
