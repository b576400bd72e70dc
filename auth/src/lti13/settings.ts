// auth.lti13: the LTI 1.3 authenticator's settings (JupyterHub's ltiauthenticator LTI13Authenticator,
// in our names), validated at the hub's start and described in docs/config.md. One platform (an LMS
// such as Canvas or Moodle) is configured; settingsProblems names what it still needs.
import { z } from 'zod'

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost'])

/** An https URL, or http on loopback (a platform on the same machine, tests). */
const platformUrl = z.string().refine((s) => {
  if (!URL.canParse(s)) return false
  const u = new URL(s)
  return u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname))
}, 'expected an https URL (http only on 127.0.0.1, [::1] or localhost)')

const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\x21-\x7e]+$/, 'expected printable characters without spaces')

export const lti13Settings = z
  .strictObject({
    issuer: z
      .string()
      .max(500)
      .optional()
      .describe(
        "The platform's issuer (`iss` of its launches and login initiations), e.g. https://canvas.instructure.com or a Moodle site's URL. Needed.",
      ),
    clientIds: z
      .array(printable(500))
      .max(50)
      .default([])
      .describe(
        "The client ids the platform gave this tool (ltiauthenticator client_id): a launch's id_token must name one of them as its audience. Needed (at least one).",
      ),
    authorizeUrl: platformUrl
      .optional()
      .describe(
        "The platform's OIDC authorization endpoint the browser is sent to after the login initiation (ltiauthenticator authorize_url; Canvas: https://sso.canvaslms.com/api/lti/authorize_redirect, Moodle: SITE/mod/lti/auth.php). Needed.",
      ),
    jwksUrl: platformUrl
      .optional()
      .describe(
        "The platform's public keys (JWKS) that sign its id_tokens (ltiauthenticator endpoint; Canvas: https://sso.canvaslms.com/api/lti/security/jwks, Moodle: SITE/mod/lti/certs.php). Needed.",
      ),
    deploymentIds: z
      .array(printable(255))
      .max(100)
      .default([])
      .describe(
        "The deployments of this tool at the platform whose launches are taken (the id_token's deployment_id claim). Needed (at least one): a launch from another deployment is refused.",
      ),
    usernameClaim: z
      .string()
      .min(1)
      .max(300)
      .default('email')
      .describe(
        "The id_token claim that gives the user name (normalised by the hub), as ltiauthenticator's username_key (default email): `email`, `sub` (the platform's stable, opaque user id, always sent), `name`, or CLAIM.KEY for a key of an object claim, e.g. `https://purl.imsglobal.org/spec/lti/claim/lis.person_sourcedid` or `https://purl.imsglobal.org/spec/lti/claim/custom.username`. A launch without it is refused with a page naming the claim.",
      ),
    groupPrefix: z
      .string()
      .max(50)
      .regex(/^[A-Za-z0-9._:-]*$/, 'expected letters, digits and . _ : -')
      .default('course-')
      .describe(
        'The launch\'s course (context claim, its id) and the user\'s roles in it become groups PREFIX+ID (any member) and PREFIX+ID-ROLE (instructor, learner, teachingassistant, contentdeveloper, mentor, administrator), for auth.allowedGroups, auth.adminGroups and auth.manageGroups. Characters other than letters, digits and . _ - in the id become "-".',
      ),
    label: z
      .string()
      .min(1)
      .max(60)
      .default('your course')
      .describe(
        'The login page says "Sign in with LABEL" and that logins begin in the course; the button sends the browser to the platform without a login hint, which most platforms refuse.',
      ),
    title: z
      .string()
      .min(1)
      .max(100)
      .default('edgehub')
      .describe("The tool's title in the configuration JSON at /hub/lti13/config, as the platform shows it."),
    httpTimeoutSec: z
      .number()
      .min(1)
      .max(60)
      .default(10)
      .describe("How long fetching the platform's keys (jwksUrl) may take. Range 1-60."),
    jwksCacheSec: z
      .number()
      .int()
      .min(60)
      .max(86400)
      .default(600)
      .describe(
        "How long the platform's keys are kept before they are fetched again (an unknown key id fetches them at once, at most every 30 s). Range 60-86400.",
      ),
    clockSkewSec: z
      .number()
      .int()
      .min(0)
      .max(300)
      .default(60)
      .describe("How far the platform's clock may be from the hub's when exp and iat are checked. Range 0-300."),
    maxTokenAgeSec: z
      .number()
      .int()
      .min(30)
      .max(3600)
      .default(300)
      .describe('An id_token issued (iat) longer ago than this is refused, whatever its exp. Range 30-3600.'),
    loginTimeoutSec: z
      .number()
      .int()
      .min(30)
      .max(3600)
      .default(600)
      .describe(
        "How long a launch may take from the platform's login initiation to its id_token (the state kept in Redis, used once). Range 30-3600.",
      ),
  })
  .prefault({})
  .describe(
    'The LTI 1.3 authenticator (auth.kind: lti13): launches from a learning platform; see docs/authenticators.md.',
  )

export type Lti13Settings = z.output<typeof lti13Settings>

/** What the schema cannot check alone (its settings are read whatever auth.kind is). */
export function lti13SettingsProblems(s: Lti13Settings): string[] {
  const problems: string[] = []
  if (!s.issuer) problems.push("auth.lti13.issuer: needed (the platform's iss)")
  if (s.clientIds.length === 0)
    problems.push('auth.lti13.clientIds: needed (the client id the platform gave this tool)')
  if (!s.authorizeUrl) problems.push("auth.lti13.authorizeUrl: needed (the platform's authorization endpoint)")
  if (!s.jwksUrl) problems.push("auth.lti13.jwksUrl: needed (the platform's JWKS URL)")
  if (s.deploymentIds.length === 0) problems.push('auth.lti13.deploymentIds: needed (at least one deployment id)')
  return problems
}
