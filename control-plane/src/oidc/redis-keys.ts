// Redis key names of the OIDC provider (hub-only; see docs/redis-schema.md, "OIDC provider").

/** AccessToken -> access-token */
const kebab = (model: string) => model.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()

export function oidcKeyNames(prefix: string) {
  const p = `${prefix}oidc:`
  return {
    /** One stored object of oidc-provider: a hash with `payload` (JSON) and, once used, `consumed`. */
    model: (model: string, id: string) => `${p}${kebab(model)}:${id}`,
    /** Set of the model keys issued under one grant, so revoking the grant deletes them all. */
    grant: (grantId: string) => `${p}grant-members:${grantId}`,
    /** Session uid -> session id. */
    sessionUid: (uid: string) => `${p}session-uid:${uid}`,
    /** Device flow user code -> device code id. */
    userCode: (userCode: string) => `${p}user-code:${userCode}`,
    /** JSON: the signing keys (JWKS, private) and cookie secrets, with a version. */
    keySet: `${p}key-set`,
  }
}
export type OidcKeyNames = ReturnType<typeof oidcKeyNames>
