// auth.oidc: the OpenID Connect / OAuth 2 authenticator's settings, validated at the hub's start and
// described in docs/config.md. A preset (presets.ts) fills what a provider needs when it is not set.
import { z } from 'zod'

export const PRESETS = ['generic', 'keycloak', 'google', 'microsoft', 'gitlab', 'github'] as const
export type PresetName = (typeof PRESETS)[number]

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost'])

/** An https URL, or http on loopback (a provider on the same machine, tests). */
const providerUrl = z.string().refine((s) => {
  if (!URL.canParse(s)) return false
  const u = new URL(s)
  return u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname))
}, 'expected an https URL (http only on 127.0.0.1, [::1] or localhost)')

const claimPath = z
  .string()
  .max(200)
  .regex(/^[^.\s]+(\.[^.\s]+)*$|^$/, 'expected a claim name or a dotted path (realm_access.roles)')

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'expected an environment variable name')
  .refine((s) => !s.startsWith('JUPYTERHUB_'), 'JUPYTERHUB_* variables are the hub’s own')

export const oidcSettings = z
  .strictObject({
    preset: z
      .enum(PRESETS)
      .default('generic')
      .describe(
        'Provider defaults (docs/authenticators.md): `generic` (any OpenID Connect provider: set issuer), `keycloak` (issuer https://HOST/realms/REALM), `google` (hostedDomains), `microsoft` (Entra ID: tenant), `gitlab` (issuer default https://gitlab.com), `github` (OAuth 2, not OpenID Connect: organisations and teams as groups; githubUrl, githubApiUrl for GitHub Enterprise). Settings given here win over the preset.',
      ),
    issuer: providerUrl
      .optional()
      .describe(
        "The provider's issuer URL; its discovery document (ISSUER/.well-known/openid-configuration) gives the endpoints and keys. Needed for generic and keycloak; google, gitlab and microsoft have one. https only (http on loopback).",
      ),
    tenant: z
      .string()
      .regex(/^[A-Za-z0-9.-]{1,100}$/, 'expected a tenant id or domain')
      .optional()
      .describe(
        'microsoft preset: the Entra ID tenant (its id or primary domain); the issuer is https://login.microsoftonline.com/TENANT/v2.0.',
      ),
    authorizeUrl: providerUrl
      .optional()
      .describe(
        'Plain OAuth 2 (no discovery, no ID token): the authorization endpoint. With tokenUrl and userinfoUrl it replaces issuer.',
      ),
    tokenUrl: providerUrl.optional().describe('Plain OAuth 2: the token endpoint.'),
    userinfoUrl: providerUrl.optional().describe('Plain OAuth 2: the endpoint that returns the user as JSON.'),
    endSessionUrl: providerUrl
      .optional()
      .describe("The provider's logout (end-session) endpoint, when discovery does not give one."),
    clientId: z
      .string()
      .max(500)
      .default('')
      .describe("The hub's client id at the provider (registered with the redirect URI PUBLICURL/hub/oauth_callback)."),
    clientSecret: z
      .string()
      .max(4096)
      .optional()
      .describe(
        'The client secret, or EDGEHUB_AUTH_OIDC_CLIENT_SECRET in the environment (never logged, hidden by `edgehub config check`). Without one the hub is a public client (PKCE only).',
      ),
    tokenEndpointAuthMethod: z
      .enum(['client_secret_basic', 'client_secret_post'])
      .default('client_secret_basic')
      .describe('How the secret is sent to the token endpoint: HTTP Basic or in the form.'),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'expected a scope token'))
      .max(50)
      .optional()
      .describe(
        "Scopes asked for. Default the preset's (generic: openid profile email; github: read:org; gitlab: openid profile email; the hub's own provider also needs groups).",
      ),
    usernameClaim: claimPath
      .min(1)
      .optional()
      .describe(
        'The claim that gives the user name (normalised by the hub): preferred_username (generic, keycloak, microsoft, gitlab), email (google), login (github), sub, or a dotted path. A login without it is refused with a page naming the claim.',
      ),
    groupsClaim: claimPath
      .optional()
      .describe(
        "The claim (or dotted path, e.g. realm_access.roles) listing the user's groups, given to auth.allowedGroups, auth.adminGroups and auth.manageGroups. Default `groups` (google: empty). Empty: the provider reports no groups and the hub's own decide. github: ORG and ORG:TEAM from the API instead.",
      ),
    userinfo: z
      .boolean()
      .optional()
      .describe(
        "Read the userinfo endpoint after the token exchange and merge its claims over the ID token's (default true when the provider has one). GitLab's groups are only there.",
      ),
    hostedDomains: z
      .array(z.string().regex(/^[a-z0-9.-]{1,253}$/, 'expected a domain name'))
      .max(100)
      .default([])
      .describe(
        "google preset: only accounts of these Google Workspace domains (the ID token's verified `hd` claim) may log in; with one, Google's chooser shows only it. Empty: any Google account.",
      ),
    allowedOrganizations: z
      .array(z.string().regex(/^[A-Za-z0-9-]{1,100}(:[A-Za-z0-9._-]{1,100})?$/, 'expected ORG or ORG:TEAM'))
      .max(100)
      .default([])
      .describe(
        "github preset: only members of these organisations (ORG) or teams (ORG:TEAM) may log in (OAuthenticator's allowed_organizations); empty: anyone the other rules admit. Organisations hide private memberships unless the app is granted read:org.",
      ),
    githubUrl: providerUrl
      .default('https://github.com')
      .describe('github preset: the web address (GitHub Enterprise: https://HOST).'),
    githubApiUrl: providerUrl
      .default('https://api.github.com')
      .describe('github preset: the API address (GitHub Enterprise: https://HOST/api/v3).'),
    label: z
      .string()
      .min(1)
      .max(60)
      .optional()
      .describe(
        'The login button says "Sign in with LABEL". Default the preset\'s name (Google, Microsoft, GitLab, GitHub, Keycloak) or "OpenID Connect".',
      ),
    autoLogin: z
      .boolean()
      .default(false)
      .describe(
        "Skip the login page and go straight to the provider (JupyterHub's auto_login); after a logout the page is shown.",
      ),
    logoutAtProvider: z
      .boolean()
      .default(true)
      .describe(
        "After the hub's logout, send the browser to the provider's end-session endpoint (with id_token_hint), which sends it back to the hub's login page (register PUBLICURL/hub/login?logged_out=1 as a post-logout redirect URI). false: log out of the hub only.",
      ),
    accessTokenEnv: envName
      .optional()
      .describe(
        "Give the user's servers their access token in this environment variable (needs auth.enableAuthState). Off by default: the server and anything running in it can then act as the user at the provider.",
      ),
    httpTimeoutSec: z
      .number()
      .min(1)
      .max(60)
      .default(10)
      .describe('How long a request to the provider may take. Range 1-60.'),
  })
  .prefault({})
  .describe('The OpenID Connect / OAuth 2 authenticator (auth.kind: oidc); see docs/authenticators.md.')

export type OidcSettings = z.output<typeof oidcSettings>
