// The lti13 authenticator over HTTP, on a real stack, against a simulated LTI 1.3 platform
// (test/support/lti-platform.ts: its own RSA key and JWKS, real signed id_tokens). A "browser" here
// is a cookie jar at the hub that keeps SameSite=Lax: the platform's form_post is a cross-site POST
// sent without the hub's cookies, the hub's relay page posts it again from the hub's origin with them.
// A launch logs the person in under the configured claim with their course groups and lands on its
// target_link_uri; a forged signature, a wrong audience or issuer, an expired token, a replayed
// nonce, an unknown deployment, another message type and a launch not begun in this browser are
// refused with readable pages; the launch URL alone is exempt from the hub's XSRF check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, json } from '../../support/client'
import { issuedToken } from '../../support/people'
import { startStack, type Stack } from '../../support/stack'
import {
  ROLE,
  formOf,
  startSimulatedPlatform,
  type LaunchSpec,
  type SimulatedPlatform,
} from '../../support/lti-platform'
import { freePort } from '../../../runtime/src/ports'

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/'

let stack: Stack
let platform: SimulatedPlatform
let admin: { authorization: string }

beforeAll(async () => {
  const port = await freePort()
  const hubUrl = `http://127.0.0.1:${port}`
  platform = await startSimulatedPlatform({ toolUrl: hubUrl })
  try {
    stack = await startStack({
      port,
      publicUrl: hubUrl,
      auth: {
        kind: 'lti13',
        admins: ['hubroot'],
        allowedGroups: ['course-phys101'],
        manageGroups: true,
        enableAuthState: true,
        cryptKeys: ['b'.repeat(64)],
        lti13: { ...platform.settings(), usernameClaim: 'email', title: 'Physics notebooks' },
      },
    })
  } catch (err) {
    await platform.stop()
    throw err
  }
  admin = { authorization: `token ${issuedToken(stack, 'hubroot')}` }
}, 120_000)
afterAll(async () => {
  await stack?.stop()
  await platform?.stop()
})

const PHYSICS = { id: 'phys101', title: 'Physics 101' }
let n = 0
const student = (over: Partial<LaunchSpec> = {}): LaunchSpec => {
  const i = ++n
  return { sub: `user-${i}`, email: `student${i}@uni.example`, course: PHYSICS, roles: [ROLE.learner], ...over }
}

/** The platform sends the browser to the hub's login initiation (a top-level GET); the hub's redirect. */
async function initiate(b: Client, spec: LaunchSpec): Promise<URL> {
  const res = await b.get(`/hub/lti13/oauth_login?${new URLSearchParams(platform.initiation(spec))}`)
  expect(res.status, await res.clone().text()).toBe(302)
  return new URL(res.headers.get('location')!)
}

/** The platform's answer to the authorization request: the form it posts to the tool. */
async function platformForm(authorize: URL): Promise<{ action: string; fields: Record<string, string> }> {
  const res = await fetch(authorize)
  const body = await res.text()
  expect(res.status, body).toBe(200)
  return formOf(body)
}

/** A POST from the platform's page: cross-site, so no SameSite=Lax cookie of the hub goes with it. */
const crossSitePost = (action: string, fields: Record<string, string>) =>
  fetch(action, {
    method: 'POST',
    body: new URLSearchParams(fields),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: platform.url,
      'sec-fetch-site': 'cross-site',
    },
    redirect: 'manual',
  })

/** The launch as a browser makes it: the cross-site POST, then the hub's relay page posted from its own origin. */
async function post(b: Client, form: { action: string; fields: Record<string, string> }): Promise<Response> {
  const first = await crossSitePost(form.action, form.fields)
  const page = await first.text()
  expect(first.status, page).toBe(200)
  const relay = formOf(page)
  return b.request(new URL(relay.action, stack.url).pathname, {
    method: 'POST',
    body: new URLSearchParams(relay.fields).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: stack.url,
      'sec-fetch-site': 'same-origin',
    },
  })
}

/** A whole launch in browser b: the hub's answer to the relayed POST. */
async function launch(b: Client, spec: LaunchSpec): Promise<Response> {
  return post(b, await platformForm(await initiate(b, spec)))
}

async function refusedWith(res: Response, status: number, text: RegExp) {
  const body = await res.text()
  expect(res.status, body).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/text\/html/)
  expect(body).toMatch(text)
}

describe('a launch from the course', () => {
  it('asks the platform for an id_token by form_post with the login and message hints it was given', async () => {
    const b = new Client(stack.url)
    const spec = student()
    const init = platform.initiation(spec)
    const res = await b.get(`/hub/lti13/oauth_login?${new URLSearchParams(init)}`)
    expect(res.status).toBe(302)
    const to = new URL(res.headers.get('location')!)
    expect(to.origin + to.pathname).toBe(platform.authorizeUrl)
    expect(Object.fromEntries(to.searchParams)).toMatchObject({
      scope: 'openid',
      response_type: 'id_token',
      response_mode: 'form_post',
      prompt: 'none',
      client_id: platform.clientId,
      redirect_uri: `${stack.url}/hub/lti13/oauth_callback`,
      login_hint: init.login_hint,
      lti_message_hint: init.lti_message_hint,
      state: b.jar.get('edgehub-login-flow'),
    })
    expect(to.searchParams.get('nonce')).toMatch(/^[\w-]{30,}$/)
  })

  it('takes a login initiation posted by the platform as a form too', async () => {
    const b = new Client(stack.url)
    const res = await b.request('/hub/lti13/oauth_login', {
      method: 'POST',
      body: new URLSearchParams(platform.initiation(student())).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: platform.url },
    })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toContain(platform.authorizeUrl)
  })

  it('logs the person in under the email claim with their course groups and lands on target_link_uri', async () => {
    const b = new Client(stack.url)
    const spec = student({ roles: [ROLE.learner, ROLE.teachingAssistant, ROLE.institutionStudent] })
    spec.targetLinkUri = `${stack.url}/hub/token?from=course`
    const res = await launch(b, spec)
    expect(res.status, await res.clone().text()).toBe(302)
    expect(res.headers.get('location')).toBe('/hub/token?from=course')
    const landed = await b.get('/hub/token?from=course')
    expect(landed.status).toBe(200)
    const me = await json(await b.api('GET', '/user'))
    expect(me.name).toBe(spec.email)
    const model = await json(
      await fetch(`${stack.url}/hub/api/users/${encodeURIComponent(spec.email!)}`, { headers: admin }),
    )
    expect([...model.groups].sort()).toEqual([
      'course-phys101',
      'course-phys101-learner',
      'course-phys101-teachingassistant',
    ])
    // auth_state: the launch's LTI claims for spawners (no token)
    expect(model.auth_state.lti).toMatchObject({
      context: { id: 'phys101', title: 'Physics 101' },
      resource_link: { id: 'resource-link-1' },
      deployment_id: platform.deploymentId,
      message_type: 'LtiResourceLinkRequest',
    })
    expect(model.auth_state.course_roles.sort()).toEqual(['learner', 'teachingassistant'])
    expect(JSON.stringify(model.auth_state)).not.toMatch(/eyJ/) // no id_token kept
  })

  it('keeps out a member of no allowed course group (auth.allowedGroups)', async () => {
    const spec = student({ course: { id: 'chem200' } })
    await refusedWith(await launch(new Client(stack.url), spec), 403, /not allowed to log in to this hub/)
    expect(
      (await fetch(`${stack.url}/hub/api/users/${encodeURIComponent(spec.email!)}`, { headers: admin })).status,
    ).toBe(404)
  })

  it('refuses a launch without the username claim, naming the claim', async () => {
    await refusedWith(
      await launch(new Client(stack.url), student({ email: undefined })),
      403,
      /no .{0,6}email.{0,6} claim/,
    )
  })

  it("fetches the platform's keys once and keeps them (auth.lti13.jwksCacheSec)", async () => {
    for (let i = 0; i < 2; i++) expect((await launch(new Client(stack.url), student())).status).toBe(302)
    expect(platform.jwksFetches).toBe(1)
  })

  it('serves the tool configuration JSON a platform imports', async () => {
    const res = await fetch(`${stack.url}/hub/lti13/config`)
    expect(res.status).toBe(200)
    const config = await json(res)
    expect(config).toMatchObject({
      title: 'Physics notebooks',
      oidc_initiation_url: `${stack.url}/hub/lti13/oauth_login`,
      target_link_uri: `${stack.url}/hub/`,
      redirect_uris: [`${stack.url}/hub/lti13/oauth_callback`],
    })
    expect(config.extensions[0].settings.placements[0].message_type).toBe('LtiResourceLinkRequest')
  })

  it('says on the login page that logins begin in the course, with no password form', async () => {
    const page = await (await fetch(`${stack.url}/hub/login`)).text()
    expect(page).toContain('Logins to this hub begin in your course')
    expect(page).not.toContain('id="password"')
  })
})

describe('the login page', () => {
  it('offers "Sign in with" the platform without a login hint, which this platform refuses', async () => {
    const b = new Client(stack.url)
    const res = await b.get('/hub/oauth_login?next=/hub/home')
    expect(res.status).toBe(302)
    const to = new URL(res.headers.get('location')!)
    expect(to.searchParams.get('redirect_uri')).toBe(`${stack.url}/hub/lti13/oauth_callback`)
    expect(to.searchParams.get('state')).toBe(b.jar.get('edgehub-login-flow'))
    expect(to.searchParams.has('login_hint')).toBe(false)
    const answer = await fetch(to)
    expect(answer.status).toBe(400)
    expect(await answer.text()).toContain('login_hint')
  })
})

describe('refused launches', () => {
  const now = () => Math.floor(Date.now() / 1000)
  const spoiled: Array<[string, Partial<LaunchSpec>, RegExp]> = [
    ['a forged signature (same kid, another key)', { forged: true }, /not signed with the platform/],
    ['another audience', { claims: { aud: 'someone-else' } }, /not for this tool \(aud\)/],
    ['another issuer', { claims: { iss: 'https://evil.example' } }, /not from the configured platform \(iss\)/],
    ['an expired id_token', { claims: { iat: now() - 120, exp: now() - 90 } }, /expired \(exp\)/],
    ['an id_token issued long ago', { claims: { iat: now() - 3000, exp: now() + 600 } }, /too long ago/],
    ['an unknown deployment', { claims: { [`${LTI}deployment_id`]: 'other-deployment' } }, /deployment/],
    [
      'a deep linking request',
      { claims: { [`${LTI}message_type`]: 'LtiDeepLinkingRequest' } },
      /LtiDeepLinkingRequest/,
    ],
    ['another LTI version', { claims: { [`${LTI}version`]: '1.1' } }, /not LTI version 1\.3\.0/],
    ['no resource link', { claims: { [`${LTI}resource_link`]: undefined } }, /no resource link/],
  ]
  it.each(spoiled)('refuses %s with a readable page, and logs no one in', async (_what, over, text) => {
    const b = new Client(stack.url)
    const spec = student(over)
    await refusedWith(await launch(b, spec), 403, text)
    expect(b.jar.has('edgehub-session')).toBe(false)
    expect((await b.api('GET', '/user')).status).toBeGreaterThanOrEqual(401)
  })

  it('refuses a replayed id_token: its nonce is not the new login’s, and a state is used once', async () => {
    const b = new Client(stack.url)
    const first = await platformForm(await initiate(b, student()))
    const res = await post(b, first)
    expect(res.status).toBe(302)
    // the same form again: its state was used
    await refusedWith(await post(b, first), 403, /not begun in this browser|expired or was used already/)
    // the old id_token with a fresh login's state: the nonce does not match
    const fresh = await initiate(b, student())
    await refusedWith(
      await post(b, {
        action: first.action,
        fields: { id_token: first.fields.id_token, state: fresh.searchParams.get('state')! },
      }),
      403,
      /nonce is not the one of this login/,
    )
  })

  it('refuses a launch with no state (not begun by a login initiation) at once', async () => {
    const b = new Client(stack.url)
    const form = await platformForm(await initiate(b, student()))
    await refusedWith(await crossSitePost(form.action, { id_token: form.fields.id_token }), 403, /no state/)
  })

  it('refuses a launch begun in another browser (login CSRF), even relayed', async () => {
    const attacker = new Client(stack.url)
    const form = await platformForm(await initiate(attacker, student()))
    const victim = new Client(stack.url)
    await (await victim.get('/hub/login')).text()
    await refusedWith(await post(victim, form), 403, /not begun in this browser/)
    // and posting the relay's marker cross-site does not skip the cookie check
    await refusedWith(
      await crossSitePost(form.action, { ...form.fields, edgehub_relayed: '1' }),
      403,
      /not begun in this browser/,
    )
    // and the launch is used up by the refused attempt: its id_token can never log anyone in
    await refusedWith(await post(attacker, form), 403, /expired or was used already/)
  })

  it('refuses a login initiation from an unknown platform, deployment or client id, or without a login_hint', async () => {
    const b = new Client(stack.url)
    const good = platform.initiation(student())
    for (const [over, text] of [
      [{ iss: 'https://evil.example' }, /platform this hub does not know/],
      [{ lti_deployment_id: 'other' }, /deployment/],
      [{ client_id: 'other' }, /unknown client id/],
      [{ login_hint: '' }, /login_hint/],
    ] as const) {
      const res = await b.get(`/hub/lti13/oauth_login?${new URLSearchParams({ ...good, ...over })}`)
      await refusedWith(res, 400, text)
    }
  })
})

describe('XSRF', () => {
  it('exempts the launch URL only: another cross-site POST, with the session cookie even, is refused', async () => {
    const b = new Client(stack.url)
    expect((await launch(b, student())).status).toBe(302)
    // the launch URL takes a cross-site POST (the relay page answers it)
    const form = await platformForm(await initiate(b, student()))
    expect((await crossSitePost(form.action, form.fields)).status).toBe(200)
    // the hub's own forms keep their XSRF check: a POST without the token is 403, cookies or not
    const stop = await b.request('/hub/stop', {
      method: 'POST',
      body: 'x=1',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: platform.url,
        'sec-fetch-site': 'cross-site',
      },
    })
    expect(stop.status).toBe(403)
    expect(await stop.text()).toContain('XSRF')
    const login = await crossSitePost(`${stack.url}/hub/login`, { username: 'x', password: 'y' })
    expect(login.status).toBe(403)
    expect(await login.text()).toContain('XSRF')
  })
})
