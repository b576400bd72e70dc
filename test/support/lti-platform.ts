// A simulated LTI 1.3 platform (the part of Canvas or Moodle a tool talks to), for the lti13
// authenticator's tests. It has its own RSA key, serves its JWKS and an OIDC authorization endpoint
// on loopback, begins logins (the third-party initiated login's parameters for a person and a
// course) and answers the tool's authorization request as a platform does: it checks the request
// (response_type id_token, form_post, prompt none, openid, its client id, a registered redirect_uri,
// the login_hint and lti_message_hint it gave) and answers a page that posts a real signed id_token
// and the tool's state to the redirect_uri. A launch can be spoiled on purpose (another key, claims
// changed or removed) to test the tool's refusals.
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose'
import { freePort } from '../../runtime/src/ports'

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/'
export const ROLE = {
  instructor: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor',
  learner: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
  teachingAssistant: 'http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant',
  institutionStudent: 'http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student',
} as const

/** A person's launch from a course: who, where, and what to spoil. */
export interface LaunchSpec {
  sub: string
  email?: string
  name?: string
  course?: { id: string; title?: string }
  roles?: string[]
  /** Where the launch asks to land (default the tool's /hub/home). */
  targetLinkUri?: string
  /** Claims set over the launch's (undefined removes one): a wrong aud, iss, exp, deployment… */
  claims?: Record<string, unknown>
  /** Sign with a key of the same kid that is not in the JWKS (a forged signature). */
  forged?: boolean
}

type Pending = { spec: LaunchSpec; messageHint: string }

/** The fields of an auto-submitting form page: its action and its hidden inputs. */
export function formOf(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*action="([^"]*)"/.exec(html)?.[1]
  if (action === undefined) throw new Error(`no form in: ${html.slice(0, 300)}`)
  const fields: Record<string, string> = {}
  for (const m of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]*)"[^>]*value="([^"]*)"/g))
    fields[m[1]] = m[2]
      .replaceAll('&quot;', '"')
      .replaceAll('&#39;', "'")
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&amp;', '&')
  return { action: action.replaceAll('&amp;', '&'), fields }
}

export interface SimulatedPlatform {
  /** http://HOST:PORT (HOST 127.0.0.1 unless told), also the issuer. */
  readonly url: string
  readonly issuer: string
  readonly clientId: string
  readonly deploymentId: string
  readonly authorizeUrl: string
  readonly jwksUrl: string
  /** How many times the tool fetched the JWKS. */
  readonly jwksFetches: number
  /** The settings auth.lti13 needs for this platform. */
  settings(): Record<string, unknown>
  /** The login initiation the platform sends the browser to the tool with, for this launch. */
  initiation(spec: LaunchSpec): Record<string, string>
  /** A course page of the platform that posts this launch's login initiation to the tool (as Canvas does). */
  coursePage(spec: LaunchSpec): string
  /** Signs claims as the platform (or with the forger's key of the same kid). */
  sign(claims: Record<string, unknown>, forged?: boolean): Promise<string>
  stop(): Promise<void>
}

/**
 * Starts the platform on loopback for the tool at toolUrl. host: the name browsers reach it by
 * (localhost makes it another site than a hub at 127.0.0.1); the hub fetches its keys at 127.0.0.1.
 */
export async function startSimulatedPlatform(opts: {
  toolUrl: string
  host?: 'localhost' | '127.0.0.1'
}): Promise<SimulatedPlatform> {
  const port = await freePort()
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`
  const jwksUrl = `http://127.0.0.1:${port}/jwks`
  const clientId = `tool-${randomBytes(4).toString('hex')}`
  const deploymentId = '1:deployment'
  const kid = 'platform-key-1'
  const own = await generateKeyPair('RS256', { extractable: true })
  const forger = await generateKeyPair('RS256')
  const jwk: JWK = { ...(await exportJWK(own.publicKey)), kid, alg: 'RS256', use: 'sig' }
  const launchUrl = `${opts.toolUrl}/hub/lti13/oauth_callback`
  const pending = new Map<string, Pending>()
  const courses = new Map<string, Record<string, string>>()
  let jwksFetches = 0

  async function sign(claims: Record<string, unknown>, forged = false): Promise<string> {
    return new SignJWT(claims as Record<string, never>)
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .sign(forged ? forger.privateKey : own.privateKey)
  }

  function claimsFor(spec: LaunchSpec, nonce: string): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000)
    const claims: Record<string, unknown> = {
      iss: url,
      aud: clientId,
      sub: spec.sub,
      iat: now,
      exp: now + 300,
      nonce,
      ...(spec.email ? { email: spec.email } : {}),
      ...(spec.name ? { name: spec.name } : {}),
      [`${LTI}message_type`]: 'LtiResourceLinkRequest',
      [`${LTI}version`]: '1.3.0',
      [`${LTI}deployment_id`]: deploymentId,
      [`${LTI}target_link_uri`]: spec.targetLinkUri ?? `${opts.toolUrl}/hub/home`,
      [`${LTI}resource_link`]: { id: 'resource-link-1', title: 'Notebooks' },
      [`${LTI}roles`]: spec.roles ?? [ROLE.learner],
      ...(spec.course
        ? {
            [`${LTI}context`]: {
              id: spec.course.id,
              title: spec.course.title ?? spec.course.id,
              type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'],
            },
          }
        : {}),
      [`${LTI}tool_platform`]: { guid: 'simulated-platform', product_family_code: 'simulated' },
    }
    for (const [k, v] of Object.entries(spec.claims ?? {})) {
      if (v === undefined) delete claims[k]
      else claims[k] = v
    }
    return claims
  }

  const esc = (s: string) =>
    s.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')

  /** The platform's answer to the tool's authorization request: an auto-submitting form, or an error. */
  async function authorize(q: URLSearchParams): Promise<{ status: number; body: string }> {
    const problems: string[] = []
    if (q.get('scope') !== 'openid') problems.push('scope')
    if (q.get('response_type') !== 'id_token') problems.push('response_type')
    if (q.get('response_mode') !== 'form_post') problems.push('response_mode')
    if (q.get('prompt') !== 'none') problems.push('prompt')
    if (q.get('client_id') !== clientId) problems.push('client_id')
    if (q.get('redirect_uri') !== launchUrl) problems.push('redirect_uri')
    if (!q.get('nonce') || !q.get('state')) problems.push('nonce or state')
    const p = pending.get(q.get('login_hint') ?? '')
    if (!p) problems.push('login_hint')
    else if (q.get('lti_message_hint') !== p.messageHint) problems.push('lti_message_hint')
    if (problems.length || !p) return { status: 400, body: `invalid_request: ${problems.join(', ')}` }
    const idToken = await sign(claimsFor(p.spec, q.get('nonce')!), p.spec.forged)
    const body = `<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="${esc(launchUrl)}"><input type="hidden" name="id_token" value="${esc(idToken)}"><input type="hidden" name="state" value="${esc(q.get('state')!)}"></form></body></html>`
    return { status: 200, body }
  }

  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', url)
    if (u.pathname === '/jwks') {
      jwksFetches++
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ keys: [jwk] }))
    } else if (u.pathname === '/course' && courses.has(u.searchParams.get('launch') ?? '')) {
      const init = courses.get(u.searchParams.get('launch')!)!
      const inputs = Object.entries(init)
        .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
        .join('')
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(
        `<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="${esc(`${opts.toolUrl}/hub/lti13/oauth_login`)}">${inputs}</form></body></html>`,
      )
    } else if (u.pathname === '/authorize') {
      authorize(u.searchParams).then(
        (a) => {
          res.writeHead(a.status, { 'content-type': a.status === 200 ? 'text/html' : 'text/plain' })
          res.end(a.body)
        },
        (err: unknown) => {
          res.writeHead(500)
          res.end(String(err))
        },
      )
    } else if (u.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<!doctype html><html><body>Simulated platform</body></html>')
    } else {
      res.writeHead(404)
      res.end()
    }
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))

  const platform: SimulatedPlatform = {
    url,
    issuer: url,
    clientId,
    deploymentId,
    authorizeUrl: `${url}/authorize`,
    jwksUrl,
    get jwksFetches() {
      return jwksFetches
    },
    settings() {
      return {
        issuer: url,
        clientIds: [clientId],
        authorizeUrl: `${url}/authorize`,
        jwksUrl,
        deploymentIds: [deploymentId],
      }
    },
    initiation(spec) {
      const loginHint = `hint-${randomBytes(6).toString('hex')}`
      const messageHint = `msg-${randomBytes(6).toString('hex')}`
      pending.set(loginHint, { spec, messageHint })
      return {
        iss: url,
        login_hint: loginHint,
        lti_message_hint: messageHint,
        target_link_uri: spec.targetLinkUri ?? `${opts.toolUrl}/hub/home`,
        client_id: clientId,
        lti_deployment_id: deploymentId,
      }
    },
    coursePage(spec) {
      const id = randomBytes(6).toString('hex')
      courses.set(id, platform.initiation(spec))
      return `${url}/course?launch=${id}`
    },
    sign,
    async stop() {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    },
  }
  return platform
}
