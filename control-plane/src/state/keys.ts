// Redis key names: the contract with proxy/lua/edgehub/keys.lua (see docs/redis-schema.md).

export const PROXY_TABLES = ['routes', 'keys', 'tokens', 'revoked', 'users', 'access', 'settings'] as const
export type ProxyTable = (typeof PROXY_TABLES)[number]

export const SESSION_COOKIE = 'edgehub-session'
/** The double-submit XSRF cookie of the hub's pages (http/xsrf.ts). */
export const XSRF_COOKIE = 'edgehub-xsrf'
/** With subdomainHost, the host-only cookie the proxy sets on a user's host (proxy/lua/edgehub/handoff.lua). */
export const HOST_COOKIE = 'edgehub-host-session'
export const COOKIE_VERSION = 'v1'
/** Binds a redirect login to the browser that began it (pages/login-flow.tsx); Path=/hub/, ten minutes. */
export const LOGIN_FLOW_COOKIE = 'edgehub-login-flow'

/**
 * Max-merge into the activity hash, run by the hub (state/activity.ts) and the proxy (activity.lua):
 * KEYS[1] the hash; ARGV field, epoch ms, ...; a value is written only over a smaller or unreadable one.
 */
export const ACTIVITY_MERGE_SCRIPT = `local h = KEYS[1]
for i = 1, #ARGV, 2 do
  local cur = tonumber(redis.call('HGET', h, ARGV[i]) or '')
  if not cur or tonumber(ARGV[i + 1]) > cur then
    redis.call('HSET', h, ARGV[i], ARGV[i + 1])
  end
end
return #ARGV / 2
`

export const STREAM_FIELDS = { table: 't', key: 'k', op: 'o', value: 'v', set: 'set', del: 'del' } as const

export function keyNames(prefix: string) {
  return {
    prefix,
    proxyVersion: `${prefix}proxy:version`,
    proxyChanges: `${prefix}proxy:changes`,
    proxyTable: (t: ProxyTable) => `${prefix}proxy:${t}`,
    /** What every proxy table's key starts with (the publish script builds table keys from it). */
    proxyTablePrefix: `${prefix}proxy:`,
    users: `${prefix}users`,
    /** Counter raised with every change to the set of user names: replicas' copies of the names are checked against it. */
    usersVersion: `${prefix}users-version`,
    user: (name: string) => `${prefix}user:${name}`,
    server: (user: string, server: string) => `${prefix}server:${user}/${server}`,
    userServers: (user: string) => `${prefix}servers:${user}`,
    serverLock: (user: string, server: string) => `${prefix}lock:server:${user}/${server}`,
    /** Held while one replica publishes a user's access table entry (scopes/edge.ts). */
    accessLock: (user: string) => `${prefix}lock:access:${user}`,
    /** Held while a named server is recorded within hub.namedServerLimitPerUser (spawn/server-edits.ts). */
    namedServersLock: (user: string) => `${prefix}lock:named-servers:${user}`,
    progress: (user: string, server: string) => `${prefix}progress:${user}/${server}`,
    token: (id: string) => `${prefix}token:${id}`,
    userTokens: (user: string) => `${prefix}tokens:${user}`,
    serviceTokens: (service: string) => `${prefix}service-tokens:${service}`,
    serviceProcess: (service: string) => `${prefix}service-process:${service}`,
    /** Services with a service-tokens set, and those with a service-process record (no SCAN needed). */
    tokenServices: `${prefix}token-services`,
    processServices: `${prefix}process-services`,
    tokenByDigest: `${prefix}token-by-digest`,
    session: (sid: string) => `${prefix}session:${sid}`,
    userSessions: (user: string) => `${prefix}sessions:${user}`,
    currentCookieKey: `${prefix}cookie-keys:current`,
    secret: (name: string) => `${prefix}secret:${name}`,
    /** A redirect login begun (auth/src/authenticator.ts RedirectLogin): its flow, until the callback or 10 minutes. */
    loginFlow: (state: string) => `${prefix}login-flow:${state}`,
    /** Login flows begun from one client address in the current minute (pages/login-flow.tsx). */
    loginFlowCount: (address: string) => `${prefix}login-flows-from:${address}`,
    /** A user's auth state, encrypted (state/auth-state.ts), and when the authenticator last checked them. */
    authState: (user: string) => `${prefix}auth-state:${user}`,
    loginFail: (name: string) => `${prefix}login-fail:${name}`,
    loginFailAddress: (address: string) => `${prefix}login-fail-address:${address}`,
    runningServers: `${prefix}active-servers`,
    pendingSpawns: `${prefix}pending-spawns`,
    leader: `${prefix}leader`,
    hubId: `${prefix}hub-id`,
    /** The data's schema version (ops/migrations.ts); absent before schema versions (edgehub 0.1.0). */
    schemaVersion: `${prefix}schema-version`,
    /** Held by the replica running the schema migrations. */
    schemaLock: `${prefix}lock:schema`,
    activity: `${prefix}activity`,
    tokenExpiry: `${prefix}token-expiry`,
    sessionExpiry: `${prefix}session-expiry`,
    oauthClient: (id: string) => `${prefix}oauth-client:${id}`,
    oauthCode: (digest: string) => `${prefix}oauth-code:${digest}`,
    rolesDigest: `${prefix}roles-digest`,
    groups: `${prefix}groups`,
    group: (name: string) => `${prefix}group:${name}`,
    groupMembers: (name: string) => `${prefix}group-members:${name}`,
    userGroups: (user: string) => `${prefix}user-groups:${user}`,
    shares: (owner: string) => `${prefix}shares:${owner}`,
    sharedWith: (kind: 'user' | 'group', name: string) => `${prefix}shared-with:${kind}:${name}`,
    shareCode: (id: string) => `${prefix}share-code:${id}`,
    shareCodeDigest: (digest: string) => `${prefix}share-code-digest:${digest}`,
    shareCodes: (owner: string) => `${prefix}share-codes:${owner}`,
    shareCodeSeq: `${prefix}share-code-seq`,
  }
}
export type KeyNames = ReturnType<typeof keyNames>

/** AccessToken -> access-token */
const kebab = (model: string) => model.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()

/** The OIDC provider's keys (hub-only; docs/redis-schema.md, "OIDC provider"). */
export function oidcKeyNames(prefix: string) {
  const p = `${prefix}oidc:`
  return {
    /** One stored object of oidc-provider: a hash with `payload` (JSON) and, once used, `consumed`. */
    model: (model: string, id: string) => `${p}${kebab(model)}:${id}`,
    /** Set of the model keys issued under one grant, so revoking the grant deletes them all. */
    grant: (grantId: string) => `${p}grant-members:${grantId}`,
    /** Set of the grant ids of one account (a hub user name): the token page's authorised applications. */
    accountGrants: (account: string) => `${p}account-grants:${account}`,
    /** Session uid -> session id. */
    sessionUid: (uid: string) => `${p}session-uid:${uid}`,
    /** Device flow user code -> device code id. */
    userCode: (userCode: string) => `${p}user-code:${userCode}`,
    /** JSON: the signing keys (JWKS, private) and cookie secrets, with a version. */
    keySet: `${p}key-set`,
  }
}
export type OidcKeyNames = ReturnType<typeof oidcKeyNames>
