// What each preset fills in, and the settings resolved into one provider description: where the
// provider is (an issuer to discover, or explicit OAuth 2 endpoints), what to ask for, which claims
// name the user and their groups. A setting given explicitly always wins over the preset.
import { ConfigError } from '../../../runtime/src/errors'
import type { OidcSettings, PresetName } from './settings'

export interface Endpoints {
  authorize: string
  token: string
  userinfo?: string
  endSession?: string
}

export interface ResolvedProvider {
  preset: PresetName
  label: string
  /** OpenID Connect: discovered from here. */
  issuer?: string
  /** Plain OAuth 2 (github, or explicit endpoints): no discovery, no ID token. */
  endpoints?: Endpoints
  scopes: string[]
  usernameClaim: string
  groupsClaim: string
  userinfo: boolean
  clientId: string
  clientSecret?: string
}

interface Preset {
  label: string
  issuer?: (s: OidcSettings) => string | undefined
  scopes: string[]
  usernameClaim: string
  /** Default `groups`; empty: the provider reports none, so the hub's own groups decide. */
  groupsClaim?: string
}

const PRESET: Record<PresetName, Preset> = {
  generic: { label: 'OpenID Connect', scopes: ['openid', 'profile', 'email'], usernameClaim: 'preferred_username' },
  keycloak: { label: 'Keycloak', scopes: ['openid', 'profile', 'email'], usernameClaim: 'preferred_username' },
  google: {
    label: 'Google',
    issuer: () => 'https://accounts.google.com',
    scopes: ['openid', 'email'],
    usernameClaim: 'email',
    groupsClaim: '', // Google's ID tokens carry no groups
  },
  microsoft: {
    label: 'Microsoft',
    issuer: (s) => (s.tenant ? `https://login.microsoftonline.com/${s.tenant}/v2.0` : undefined),
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    usernameClaim: 'preferred_username',
  },
  gitlab: {
    label: 'GitLab',
    issuer: () => 'https://gitlab.com',
    scopes: ['openid', 'profile', 'email'],
    usernameClaim: 'preferred_username',
  },
  github: { label: 'GitHub', scopes: ['read:org'], usernameClaim: 'login' },
}

const trim = (u: string) => u.replace(/\/+$/, '')

/** The provider the settings describe; a ConfigError naming the key when one is missing. */
export function resolveProvider(s: OidcSettings, env: NodeJS.ProcessEnv = process.env): ResolvedProvider {
  const p = PRESET[s.preset]
  if (!s.clientId) throw new ConfigError('edgehub: auth.oidc.clientId: needed with auth.kind oidc')
  const clientSecret = s.clientSecret ?? env.EDGEHUB_AUTH_OIDC_CLIENT_SECRET ?? undefined
  const common = {
    preset: s.preset,
    label: s.label ?? p.label,
    scopes: s.scopes ?? p.scopes,
    usernameClaim: s.usernameClaim ?? p.usernameClaim,
    groupsClaim: s.groupsClaim ?? p.groupsClaim ?? 'groups',
    clientId: s.clientId,
    clientSecret: clientSecret || undefined,
  }
  if (s.preset === 'github') {
    const web = trim(s.githubUrl)
    const api = trim(s.githubApiUrl)
    return {
      ...common,
      endpoints: {
        authorize: s.authorizeUrl ?? `${web}/login/oauth/authorize`,
        token: s.tokenUrl ?? `${web}/login/oauth/access_token`,
        userinfo: s.userinfoUrl ?? `${api}/user`,
      },
      userinfo: true,
    }
  }
  if (s.authorizeUrl || s.tokenUrl) {
    if (!s.authorizeUrl || !s.tokenUrl)
      throw new ConfigError(`edgehub: auth.oidc.${s.authorizeUrl ? 'tokenUrl' : 'authorizeUrl'}: needed with the other`)
    if (!s.userinfoUrl)
      throw new ConfigError('edgehub: auth.oidc.userinfoUrl: needed with explicit endpoints (it names the user)')
    return {
      ...common,
      endpoints: { authorize: s.authorizeUrl, token: s.tokenUrl, userinfo: s.userinfoUrl, endSession: s.endSessionUrl },
      userinfo: true,
    }
  }
  const issuer = s.issuer ?? p.issuer?.(s)
  if (!issuer)
    throw new ConfigError(
      s.preset === 'microsoft'
        ? 'edgehub: auth.oidc.tenant: needed with the microsoft preset (or auth.oidc.issuer)'
        : `edgehub: auth.oidc.issuer: needed with the ${s.preset} preset (or authorizeUrl, tokenUrl and userinfoUrl)`,
    )
  return { ...common, issuer, userinfo: s.userinfo ?? true }
}

/** The settings' problems, one line each naming the key, for the configuration check at load (auth.kind oidc). */
export function oidcSettingsProblems(s: OidcSettings): string[] {
  const problems: string[] = []
  if (!s.clientId) problems.push('auth.oidc.clientId: needed with auth.kind oidc')
  try {
    resolveProvider({ ...s, clientId: s.clientId || 'checked-above' }, {})
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    problems.push(err.message.replace(/^edgehub: /, ''))
  }
  return problems
}
