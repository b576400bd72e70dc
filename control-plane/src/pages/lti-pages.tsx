// LTI 1.3 launches (auth.kind lti13), at ltiauthenticator's URLs:
//   GET|POST /hub/lti13/oauth_login     the platform's third-party initiated login: a flow kept in
//                                       Redis under a fresh state (with the authenticator's nonce),
//                                       bound to this browser by the login-flow cookie, then on to
//                                       the platform's authorization endpoint;
//   POST     /hub/lti13/oauth_callback  the launch: the platform's form_post of id_token and state;
//   GET      /hub/lti13/config          the tool configuration JSON a platform imports.
// The launch is a cross-site POST, which carries no SameSite=Lax cookie. Rather than a
// SameSite=None cookie (refused by browsers over plain http), the first, cross-site POST is answered
// with a page that posts the same fields again from the hub's own origin; that second POST carries
// the Lax login-flow cookie, and the launch goes on only when the cookie names the state (login
// CSRF: a launch this browser did not begin is refused). The state is used once (GETDEL) and its
// nonce must be the one inside the signed id_token. These routes read their forms themselves: the
// hub's XSRF check (page-kit form()) is for the hub's own forms and does not apply to them; every
// other POST keeps it.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { Hono } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { raw } from 'hono/html'
import { HubError } from '../../../runtime/src/errors'
import type { AuthJson, Identity } from '../../../auth/src'
import type { HubEnv } from '../http/env'
import { isSecure, safeNext } from '../http/respond'
import { LOGIN_FLOW_COOKIE } from '../state/keys'
import { admit, type Admission } from '../sessions/admit'
import { flowCookies, startSession } from './login-flow'
import { ErrorPage } from './error-page'
import { Layout } from './layout'
import type { C } from './page-kit'
import { audit } from '../audit/audit'

const LOGIN_PATH = '/lti13/oauth_login'
const LAUNCH_PATH = '/lti13/oauth_callback'
/** Marks the second, same-origin POST of a launch. */
const RELAYED = 'edgehub_relayed'
/** The login initiation's parameters (LTI Core 4.1) read from the platform's request, each bounded. */
const INITIATION = ['iss', 'login_hint', 'target_link_uri', 'lti_message_hint', 'client_id', 'lti_deployment_id']
const MAX_PARAM = 4096

const NOT_ADMITTED = 'You are not allowed to log in to this hub. Ask its administrators if you should be.'

const refused = (c: C, status: 400 | 403 | 502, message: string) => {
  c.header('Cache-Control', 'no-store')
  audit(c, 'login.failure', { target: null, outcome: status === 403 ? 'denied' : 'failure', reason: 'refused', status })
  return c.html(<ErrorPage status={status} message={message} user={null} link="/hub/login" />, status)
}

const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

/** The lti13 authenticator's redirect login, or undefined with another auth.kind. */
const ltiLogin = (c: C) => (c.var.deps.authenticator.kind === 'lti13' ? c.var.deps.authenticator.redirect : undefined)

/** A form's or a query's string fields (a GET login initiation has a query, a POST one a form). */
async function fields(c: C): Promise<Record<string, string>> {
  if (c.req.method === 'GET') return c.req.query()
  const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v
  return out
}

/** A path of this hub for an absolute target_link_uri on its own origin; undefined otherwise. */
function ownPath(c: C, target: unknown): string | undefined {
  if (typeof target !== 'string' || !URL.canParse(target)) return undefined
  const u = new URL(target)
  if (u.origin !== new URL(c.var.deps.publicUrl).origin) return undefined
  const path = u.pathname + u.search
  return safeNext(path, '') || undefined
}

/** The page that posts a launch again from the hub's own origin, so the login-flow cookie comes with it. */
function RelayPage(p: { action: string; fields: Record<string, string> }) {
  return (
    <Layout title="Logging in">
      <div class="card">
        <h1>Logging in…</h1>
        <form method="post" action={p.action} id="lti_relay">
          {Object.entries(p.fields).map(([k, v]) => (
            <input type="hidden" name={k} value={v} />
          ))}
          <input type="hidden" name={RELAYED} value="1" />
          <noscript>
            <button type="submit">Continue</button>
          </noscript>
        </form>
        <script>{raw("document.getElementById('lti_relay').submit()")}</script>
      </div>
    </Layout>
  )
}

export function ltiPages(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  const loginInitiation = async (c: C) => {
    const d = c.var.deps
    const login = ltiLogin(c)
    if (!login) return refused(c, 400, 'This hub does not take LTI launches.')
    const f = await fields(c)
    const initiation: Record<string, string> = {}
    for (const k of INITIATION) if (f[k] !== undefined) initiation[k] = f[k].slice(0, MAX_PARAM)
    if (!initiation.iss || !initiation.login_hint || !initiation.target_link_uri)
      return refused(
        c,
        400,
        'This address is for logins begun by a course platform (iss, login_hint and target_link_uri are needed). Open the hub from your course.',
      )
    const state = randomBytes(24).toString('base64url')
    // begin() also reads the initiation (auth/src/lti13: LtiBeginInput)
    const input = { state, callbackUrl: `${d.publicUrl}/hub${LAUNCH_PATH}`, initiation }
    let begun: Awaited<ReturnType<typeof login.begin>>
    try {
      begun = await login.begin(input)
    } catch (err) {
      if (err instanceof HubError && err.expose) return refused(c, 400, err.message)
      throw err
    }
    const ttl = d.config.auth.lti13.loginTimeoutSec
    const next = ownPath(c, initiation.target_link_uri) ?? '/hub/'
    await d.redis.set(d.keys.loginFlow(state), JSON.stringify({ flow: begun.flow, next }), 'EX', ttl)
    setCookie(c, LOGIN_FLOW_COOKIE, state, {
      path: '/hub/',
      httpOnly: true,
      sameSite: 'Lax', // sent with the relayed launch (same origin), never with another site's POST
      secure: isSecure(c),
      maxAge: ttl,
    })
    c.header('Cache-Control', 'no-store')
    return c.redirect(begun.url)
  }
  app.get(LOGIN_PATH, loginInitiation)
  app.post(LOGIN_PATH, loginInitiation)

  app.post(LAUNCH_PATH, async (c) => {
    const d = c.var.deps
    const login = ltiLogin(c)
    if (!login) return refused(c, 400, 'This hub does not take LTI launches.')
    const f = await fields(c)
    const state = (f.state ?? '').slice(0, 200)
    if (f.error) {
      d.log.info('the course platform refused a launch', { error: f.error.slice(0, 100) })
      return refused(c, 403, `Your course platform did not log you in (${f.error.slice(0, 100)}).`)
    }
    if (!state)
      return refused(
        c,
        403,
        'This launch did not begin with a login from your course (no state). Open the hub from your course again.',
      )
    const bound = getCookie(c, LOGIN_FLOW_COOKIE)
    if (!bound && f[RELAYED] !== '1') {
      // the platform's cross-site POST: post it again from this origin, with the login-flow cookie
      c.header('Cache-Control', 'no-store')
      c.header('Referrer-Policy', 'same-origin') // the relayed POST names the hub as its Origin
      const again: Record<string, string> = {}
      for (const k of ['id_token', 'state']) if (f[k] !== undefined) again[k] = f[k]
      return c.html(<RelayPage action={`/hub${LAUNCH_PATH}`} fields={again} />)
    }
    deleteCookie(c, LOGIN_FLOW_COOKIE, { path: '/hub/', secure: isSecure(c) })
    // from here (this origin's POST) the flow is used up, matched or not, so an id_token that reaches
    // the wrong browser (a script on this origin that made the launch fail) can never be replayed;
    // two flow cookies (one planted with a narrower path) make the launch no one's
    const saved = await d.redis.getdel(d.keys.loginFlow(state))
    if (!bound || flowCookies(c).length !== 1 || !sameText(state, bound))
      return refused(
        c,
        403,
        'This launch was not begun in this browser, or it took too long. Open the hub from your course again.',
      )
    if (!saved)
      return refused(c, 403, 'This launch has expired or was used already. Open the hub from your course again.')
    const { flow, next } = JSON.parse(saved) as { flow: { [k: string]: AuthJson }; next: string }
    let identity: Identity | null
    try {
      identity = await login.complete({
        params: new URLSearchParams(f),
        flow,
        callbackUrl: `${d.publicUrl}/hub${LAUNCH_PATH}`,
      })
    } catch (err) {
      if (err instanceof HubError && err.expose) {
        d.log.info('an LTI launch was refused', { why: err.message })
        return refused(c, err.status === 502 ? 502 : 403, err.message)
      }
      throw err
    }
    const admitted: Admission = identity ? await admit(d, identity) : { ok: false, why: 'refused by the authenticator' }
    if (!admitted.ok) {
      d.log.info('login refused', { user: admitted.name ?? identity?.name, why: admitted.why })
      return refused(c, 403, NOT_ADMITTED)
    }
    // where the launch asks to go (its signed target_link_uri, kept in auth_state.lti), on this hub
    const lti = identity?.authState?.lti
    const target = lti && typeof lti === 'object' && !Array.isArray(lti) ? lti.target_link_uri : undefined
    return startSession(c, admitted.name, ownPath(c, target) ?? safeNext(next))
  })

  // The tool configuration a platform imports (Canvas' JSON configuration; Moodle takes the URLs).
  app.get('/lti13/config', (c) => {
    if (!ltiLogin(c)) return refused(c, 400, 'This hub does not take LTI launches.')
    const d = c.var.deps
    const s = d.config.auth.lti13
    const base = d.publicUrl
    const target = `${base}/hub/`
    return c.json({
      title: s.title,
      description: `Log in to ${s.title} from the course`,
      oidc_initiation_url: `${base}/hub${LOGIN_PATH}`,
      target_link_uri: target,
      redirect_uris: [`${base}/hub${LAUNCH_PATH}`],
      scopes: [],
      custom_fields: {},
      extensions: [
        {
          platform: 'canvas.instructure.com',
          privacy_level: 'public',
          settings: {
            platform: 'canvas.instructure.com',
            text: s.title,
            placements: [
              {
                placement: 'course_navigation',
                message_type: 'LtiResourceLinkRequest',
                target_link_uri: target,
                text: s.title,
                windowTarget: '_blank',
              },
            ],
          },
        },
      ],
    })
  })
  return app
}
