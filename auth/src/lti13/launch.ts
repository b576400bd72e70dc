// Checking an LTI 1.3 launch's id_token (IMS Security Framework 5.1.3, LTI Core 5.3): signed by a key
// of the platform's JWKS (fetched with a timeout, kept for jwksCacheSec), from the configured
// issuer, for one of our client ids (azp when there are several audiences), not expired and not too
// old (with the allowed clock skew), carrying the nonce of this login's flow, from a configured
// deployment, a resource link launch of LTI 1.3.0. Every refusal is a HubError the person reads.
import { createRemoteJWKSet, errors, jwtVerify } from 'jose'
import { HubError } from '../../../runtime/src/errors'
import { CLAIM, type Claims } from './claims'
import type { Lti13Settings } from './settings'

/** The platform's keys: fetched on first use, again after jwksCacheSec or for an unknown key id (at most every 30 s). */
export function platformKeys(s: Lti13Settings) {
  if (!s.jwksUrl) return undefined
  return createRemoteJWKSet(new URL(s.jwksUrl), {
    timeoutDuration: s.httpTimeoutSec * 1000,
    cooldownDuration: 30_000,
    cacheMaxAge: s.jwksCacheSec * 1000,
  })
}

const refused = (why: string) =>
  new HubError(403, `This launch from your course was refused: ${why}. Open the hub from your course again.`)

/** A jose failure, as the person reads it; a platform that cannot be reached is a 502. */
function joseRefusal(err: unknown): HubError {
  if (err instanceof errors.JWTExpired)
    return refused(err.claim === 'iat' ? 'it was issued too long ago (iat)' : 'it has expired (exp)')
  if (err instanceof errors.JWTClaimValidationFailed) {
    const what: Record<string, string> = {
      iss: 'it is not from the configured platform (iss)',
      aud: 'it is not for this tool (aud)',
      iat: 'it was issued too long ago or in the future (iat)',
      nbf: 'it is not valid yet (nbf)',
    }
    return refused(what[err.claim] ?? `its ${err.claim} claim is missing or wrong`)
  }
  if (
    err instanceof errors.JWSSignatureVerificationFailed ||
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JWKSMultipleMatchingKeys ||
    err instanceof errors.JOSEAlgNotAllowed
  )
    return refused("it is not signed with the platform's keys")
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return refused('its id_token is malformed')
  return new HubError(502, "The course platform's keys could not be fetched. Try again later.", 'bad_gateway', {
    cause: err,
    expose: true,
  })
}

/** The launch's verified claims, or a HubError. */
export async function verifyLaunch(
  s: Lti13Settings,
  keys: ReturnType<typeof platformKeys>,
  idToken: string,
  flow: { nonce: string; clientId?: string },
): Promise<Claims> {
  if (!keys || !s.issuer || s.clientIds.length === 0)
    throw new HubError(500, 'auth.lti13 is not configured', 'error', { expose: false })
  let claims: Claims
  try {
    const { payload } = await jwtVerify(idToken, keys, {
      issuer: s.issuer,
      audience: s.clientIds,
      algorithms: ['RS256', 'RS384', 'RS512'],
      clockTolerance: s.clockSkewSec,
      maxTokenAge: s.maxTokenAgeSec,
      requiredClaims: ['exp', 'iat', 'nonce'],
    })
    claims = payload as Claims
  } catch (err) {
    throw joseRefusal(err)
  }
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  if (aud.length > 1 && !(typeof claims.azp === 'string' && s.clientIds.includes(claims.azp)))
    throw refused('it names several audiences and none of our client ids as azp')
  if (flow.clientId && !aud.includes(flow.clientId) && claims.azp !== flow.clientId)
    throw refused('it is for another client id than its login initiation')
  if (claims.nonce !== flow.nonce) throw refused('its nonce is not the one of this login (a replayed launch)')
  const deployment = claims[CLAIM.deploymentId]
  if (typeof deployment !== 'string' || !s.deploymentIds.includes(deployment))
    throw refused('it comes from a deployment of the tool this hub does not take (deployment_id)')
  const type = claims[CLAIM.messageType]
  if (type !== 'LtiResourceLinkRequest')
    throw refused(
      `it is a ${typeof type === 'string' ? type.slice(0, 50) : 'message'} this hub does not take (only LtiResourceLinkRequest)`,
    )
  if (claims[CLAIM.version] !== '1.3.0') throw refused('it is not LTI version 1.3.0')
  const link = claims[CLAIM.resourceLink]
  if (!link || typeof link !== 'object' || Array.isArray(link) || typeof link.id !== 'string')
    throw refused('it names no resource link')
  return claims
}
