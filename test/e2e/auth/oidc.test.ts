// The oidc authenticator over HTTP, between two real stacks: the provider is a second edgehub (its
// users, groups and /hub/oidc), the hub under test logs people in there. The login flow's checks
// (state bound to the browser, used once, the provider's errors), the login policy on the groups
// claim, auth_state encrypted in Redis and shown to admin:auth_state, the access token in the
// server's environment, and a refresh with a revoked refresh token ending the sessions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from 'node:net'
import { Agent, fetch as undiciFetch } from 'undici'
import { json } from '../../support/client'
import { serverRouted } from '../../support/people'
import { envServer } from '../../support/servers'
import {
  CLIENT_ID,
  CLIENT_SECRET,
  TwoSiteBrowser,
  hubAdmin,
  providerUser,
  startTwoHubs,
  type TwoHubs,
} from './two-hubs'

/** A stand-in server that answers with the OIDC_ACCESS_TOKEN its environment holds. */
const ENV_SERVER = envServer('OIDC_ACCESS_TOKEN')

let two: TwoHubs
let admin: { authorization: string }
let adminToken: string
const PASSWORD = 'provider password 1'

beforeAll(async () => {
  two = await startTwoHubs({
    auth: {
      allowedGroups: ['physics', 'staff'],
      adminGroups: ['staff'],
      manageGroups: true,
      refreshBeforeSpawn: true,
    },
    oidc: { accessTokenEnv: 'OIDC_ACCESS_TOKEN' },
    hub: { spawner: { 'local-process': { command: ['python3', '-c', ENV_SERVER], args: ['{ip}', '{port}'] } } },
  })
  await providerUser(two, 'ada', PASSWORD, ['physics'])
  await providerUser(two, 'grace', PASSWORD, ['physics', 'staff'])
  await providerUser(two, 'eve', PASSWORD, ['chemistry'])
  ;({ token: adminToken, auth: admin } = hubAdmin(two.hub))
}, 120_000)
afterAll(async () => {
  await two?.stop()
})

/** The login button's redirect: the provider's authorization URL, with the browser holding the flow cookie. */
async function begin(b: TwoSiteBrowser): Promise<URL> {
  const res = await b.hub.get('/hub/oauth_login?next=/hub/home')
  expect(res.status).toBe(302)
  return new URL(res.headers.get('location')!)
}

/** The provider's redirect back to the hub (the callback URL with code and state), for a begun login. */
async function callbackFor(b: TwoSiteBrowser, authorize: URL): Promise<URL> {
  let url = authorize
  for (let i = 0; i < 10; i++) {
    if (url.pathname === '/hub/oauth_callback') return url
    const path = url.pathname + url.search
    const res =
      url.pathname === '/hub/login'
        ? await b.provider.postForm(path, { username: b.login!.name, password: b.login!.password })
        : await b.provider.get(path)
    await res.body?.cancel()
    url = new URL(res.headers.get('location')!, url)
  }
  throw new Error('no callback')
}

describe('logging in at the provider', () => {
  it('shows "Sign in with" and no password form; the button leads to the provider with PKCE, state and nonce', async () => {
    const b = new TwoSiteBrowser(two)
    const page = await (await b.hub.get('/hub/login')).text()
    expect(page).toContain('Sign in with Campus Hub')
    expect(page).not.toContain('id="password"')
    const to = await begin(b)
    expect(to.origin + to.pathname).toBe(`${two.issuer}/auth`)
    expect(to.searchParams.get('client_id')).toBe(CLIENT_ID)
    expect(to.searchParams.get('code_challenge_method')).toBe('S256')
    expect(to.searchParams.get('state')).toBe(b.hub.jar.get('edgehub-login-flow'))
    expect(to.searchParams.get('nonce')).toMatch(/^[\w-]{20,}$/)
    expect(to.searchParams.get('scope')).toBe('openid profile groups')
  })

  it('logs a provider user in under their preferred_username, with the provider groups (manageGroups)', async () => {
    const b = new TwoSiteBrowser(two, { name: 'ada', password: PASSWORD })
    expect(await b.logIn()).toBe('ada')
    const model = await json(await fetch(`${two.hub.url}/hub/api/users/ada`, { headers: admin }))
    expect(model.groups).toEqual(['physics'])
    expect(model.admin).toBe(false)
  })

  it('makes members of an admin group admins and keeps out users of no allowed group', async () => {
    const grace = new TwoSiteBrowser(two, { name: 'grace', password: PASSWORD })
    expect(await grace.logIn()).toBe('grace')
    const model = await json(await fetch(`${two.hub.url}/hub/api/users/grace`, { headers: admin }))
    expect(model.admin).toBe(true)
    expect([...model.groups].sort()).toEqual(['physics', 'staff'])

    const eve = new TwoSiteBrowser(two, { name: 'eve', password: PASSWORD })
    const { res, url } = await eve.follow('/hub/oauth_login')
    expect(url.pathname).toBe('/hub/oauth_callback')
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('You are not allowed to log in to this hub')
    expect((await fetch(`${two.hub.url}/hub/api/users/eve`, { headers: admin })).status).toBe(404)
  })

  it('refuses a callback this browser did not begin (403), even with a valid code and state', async () => {
    const victim = new TwoSiteBrowser(two, { name: 'ada', password: PASSWORD })
    const callback = await callbackFor(victim, await begin(victim))
    const attacker = new TwoSiteBrowser(two)
    const res = await attacker.hub.get(callback.pathname + callback.search)
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('not begun in this browser')
    expect(attacker.hub.jar.has('edgehub-session')).toBe(false)
  })

  it('uses up a flow that a mismatched callback names, so its code cannot be replayed by the right browser either', async () => {
    const victim = new TwoSiteBrowser(two, { name: 'ada', password: PASSWORD })
    const callback = await callbackFor(victim, await begin(victim))
    const flowCookie = victim.hub.jar.get('edgehub-login-flow')!
    // a page on the hub's origin planting a second cookie with a narrower path makes the callback fail ...
    const planted = await victim.hub.get(callback.pathname + callback.search, {
      cookie: `edgehub-login-flow=x; edgehub-login-flow=${flowCookie}`,
    })
    expect(planted.status).toBe(403)
    // ... and the code it carried is dead: the flow was used up
    const replay = await victim.hub.get(callback.pathname + callback.search, {
      cookie: `edgehub-login-flow=${flowCookie}`,
    })
    expect(replay.status).toBe(403)
    expect(await replay.text()).toContain('expired or was used already')
  })

  it('bounds the logins begun from one address (429 with Retry-After), others unaffected', async () => {
    // from an address of its own (127.0.0.5), so the other tests' logins are not counted with these
    const from = new Agent({
      connect: (o, done) => {
        const socket = connect({ host: o.hostname, port: Number(o.port), localAddress: '127.0.0.5' })
        socket.once('connect', () => done(null, socket))
        socket.once('error', (err) => done(err, null))
      },
    })
    try {
      const long = encodeURIComponent(`/hub/home?${'x'.repeat(5000)}`)
      let last = 0
      for (let i = 0; i < 70 && last !== 429; i++) {
        const res = await undiciFetch(`${two.hub.url}/hub/oauth_login?next=${long}`, {
          dispatcher: from,
          redirect: 'manual',
        })
        await res.body?.cancel()
        last = res.status
        if (last === 429) expect(res.headers.get('retry-after')).toBe('60')
      }
      expect(last).toBe(429)
    } finally {
      await from.close()
    }
    const elsewhere = await new TwoSiteBrowser(two).hub.get('/hub/oauth_login?next=/hub/home')
    expect(elsewhere.status).toBe(302)
  })

  it('refuses a callback used already (403)', async () => {
    const b = new TwoSiteBrowser(two, { name: 'ada', password: PASSWORD })
    const callback = await callbackFor(b, await begin(b))
    const flowCookie = b.hub.jar.get('edgehub-login-flow')!
    const first = await b.hub.get(callback.pathname + callback.search)
    expect(first.status).toBe(302)
    const again = await b.hub.get(callback.pathname + callback.search, {
      cookie: `edgehub-login-flow=${flowCookie}`,
    })
    expect(again.status).toBe(403)
    expect(await again.text()).toContain('expired or was used already')
  })

  it("shows a readable page for the provider's error (access_denied)", async () => {
    const b = new TwoSiteBrowser(two)
    const to = await begin(b)
    const state = to.searchParams.get('state')!
    const res = await b.hub.get(
      `/hub/oauth_callback?error=access_denied&error_description=the+user+said+no&state=${encodeURIComponent(state)}`,
    )
    expect(res.status).toBe(403)
    expect(res.headers.get('content-type')).toMatch(/text\/html/)
    expect(await res.text()).toContain('The identity provider did not log you in (access_denied)')
  })

  it('refuses a forged code, and a callback without the issuer the provider adds, with a readable page', async () => {
    const b = new TwoSiteBrowser(two)
    const state = encodeURIComponent((await begin(b)).searchParams.get('state')!)
    const iss = encodeURIComponent(two.issuer)
    const forged = await b.hub.get(`/hub/oauth_callback?code=forged&state=${state}&iss=${iss}`)
    expect(forged.status).toBe(403)
    expect(await forged.text()).toContain('did not confirm this login (invalid_grant)')

    const c = new TwoSiteBrowser(two)
    const state2 = encodeURIComponent((await begin(c)).searchParams.get('state')!)
    const noIssuer = await c.hub.get(`/hub/oauth_callback?code=forged&state=${state2}`)
    expect(noIssuer.status).toBe(403)
    expect(await noIssuer.text()).toMatch(/answer did not check out \(OAUTH_[A-Z_]+\)/)
  })
})

describe('auth state', () => {
  it('is encrypted in Redis and shown to admin:auth_state; the server gets the access token', async () => {
    const b = new TwoSiteBrowser(two, { name: 'ada', password: PASSWORD })
    await b.logIn()
    const record = await two.hub.state.hget(two.hub.keys.authState('ada'), 'state')
    expect(record).toMatch(/^v1\./)
    const model = await json(await fetch(`${two.hub.url}/hub/api/users/ada`, { headers: admin }))
    const state = model.auth_state
    expect(Object.keys(state).sort()).toEqual(['access_token', 'claims', 'expires_at', 'id_token', 'refresh_token'])
    expect(state.claims).toMatchObject({ sub: 'ada', preferred_username: 'ada', groups: ['physics'] })
    expect(record).not.toContain(state.access_token)
    expect(record).not.toContain('physics')
    // without admin:auth_state the model has none
    const own = await json(await b.hub.api('GET', '/users/ada'))
    expect(own.auth_state).toBeUndefined()

    // spawnEnv: the server's environment holds the access token (auth.oidc.accessTokenEnv)
    const start = await b.hub.api('POST', '/users/ada/server')
    expect([201, 202]).toContain(start.status)
    await serverRouted(two.hub.url, adminToken, 'ada')
    const seen = await fetch(`${two.hub.url}/user/ada/`, { headers: admin })
    const after = await json(await fetch(`${two.hub.url}/hub/api/users/ada`, { headers: admin }))
    // the spawn refreshed the tokens first (auth.refreshBeforeSpawn): the server has the new one
    expect(await seen.text()).toBe(after.auth_state.access_token)
    const stop = await b.hub.api('DELETE', '/users/ada/server')
    expect([202, 204]).toContain(stop.status)
  })

  it('a refresh with a revoked refresh token ends the sessions and refuses the spawn', async () => {
    const b = new TwoSiteBrowser(two, { name: 'grace', password: PASSWORD })
    await b.logIn()
    const personal = (await json(await b.hub.api('POST', '/users/grace/tokens', { note: 'made on the token page' })))
      .token
    const { auth_state } = await json(await fetch(`${two.hub.url}/hub/api/users/grace`, { headers: admin }))
    const revoked = await fetch(`${two.provider.url}/hub/oidc/token/revocation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: auth_state.refresh_token, token_type_hint: 'refresh_token' }),
    })
    expect(revoked.status).toBe(200)
    const start = await b.hub.api('POST', '/users/grace/server')
    expect(start.status).toBe(403)
    expect((await json(start)).message).toMatch(/login has ended/)
    const home = await b.hub.get('/hub/home')
    expect(home.status).toBe(302)
    expect(home.headers.get('location')).toMatch(/\/hub\/login/)
    // the tokens of that login end with it (a token made on the token page could otherwise go on)
    const withToken = await fetch(`${two.hub.url}/hub/api/user`, { headers: { authorization: `token ${personal}` } })
    expect(withToken.status).toBe(403)
  })
})

describe('refresh', () => {
  it('follows the provider: a group left there is left here, with the admin it gave', async () => {
    await providerUser(two, 'hedy', PASSWORD, ['physics', 'staff'])
    const b = new TwoSiteBrowser(two, { name: 'hedy', password: PASSWORD })
    await b.logIn()
    const before = await json(await fetch(`${two.hub.url}/hub/api/users/hedy`, { headers: admin }))
    expect(before.admin).toBe(true)
    const left = await fetch(`${two.provider.url}/hub/api/groups/staff/users`, {
      method: 'DELETE',
      headers: { ...two.providerRoot.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ users: ['hedy'] }),
    })
    expect(left.status).toBe(200)
    // the refresh before the spawn (auth.refreshBeforeSpawn) reads the new ID token and userinfo
    const start = await b.hub.api('POST', '/users/hedy/server')
    expect([201, 202]).toContain(start.status)
    const after = await json(await fetch(`${two.hub.url}/hub/api/users/hedy`, { headers: admin }))
    expect(after.admin).toBe(false)
    expect(after.groups).toEqual(['physics'])
    expect(after.auth_state.access_token).not.toBe(before.auth_state.access_token)
    const stop = await b.hub.api('DELETE', '/users/hedy/server')
    expect([202, 204]).toContain(stop.status)
  })
})

describe('logout', () => {
  it("sends the browser to the provider's end-session endpoint with the id_token and the way back", async () => {
    const b = new TwoSiteBrowser(two, { name: 'ada', password: PASSWORD })
    await b.logIn()
    const { auth_state } = await json(await fetch(`${two.hub.url}/hub/api/users/ada`, { headers: admin }))
    const res = await b.hub.get('/hub/logout')
    expect(res.status).toBe(302)
    const to = new URL(res.headers.get('location')!)
    expect(to.origin + to.pathname).toBe(`${two.issuer}/session/end`)
    expect(to.searchParams.get('id_token_hint')).toBe(auth_state.id_token)
    expect(to.searchParams.get('post_logout_redirect_uri')).toBe(`${two.hub.url}/hub/login?logged_out=1`)
    expect((await b.hub.get('/hub/home')).status).toBe(302)
  })
})
