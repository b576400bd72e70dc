// The oidc authenticator's github preset (OAuth 2, not OpenID Connect) against a FAKE of GitHub's
// OAuth and API endpoints (test/support/fake-github.ts), at GitHub Enterprise-style base URLs: the
// user name is the login, organisations and teams become groups ORG and ORG:TEAM, allowed
// organisations keep others out with a readable page, an admin team makes admins, and a token
// revoked at GitHub ends the sessions at the next refresh.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, json } from '../../support/client'
import { startStack, type Stack } from '../../support/stack'
import { issuedToken } from '../../support/people'
import { startFakeGithub, type FakeGithub } from '../../support/fake-github'
import { freePort } from '../../../runtime/src/ports'

let github: FakeGithub
let hub: Stack
let admin: { authorization: string }

beforeAll(async () => {
  const port = await freePort()
  github = await startFakeGithub({
    redirectUri: `http://127.0.0.1:${port}/hub/oauth_callback`,
    users: [
      { login: 'Octocat', id: 1, orgs: ['physics-lab'], teams: ['physics-lab:admins'] },
      { login: 'hubot', id: 2, orgs: ['physics-lab', 'other'] },
      { login: 'mallory', id: 3, orgs: ['elsewhere'], teams: ['elsewhere:devs'] },
    ],
  })
  hub = await startStack({
    port,
    publicUrl: `http://127.0.0.1:${port}`,
    auth: {
      kind: 'oidc',
      admins: ['hubroot'],
      adminGroups: ['physics-lab:admins'],
      manageGroups: true,
      enableAuthState: true,
      cryptKeys: ['b'.repeat(64)],
      refreshBeforeSpawn: true,
      oidc: {
        preset: 'github',
        clientId: github.clientId,
        clientSecret: github.clientSecret,
        githubUrl: github.url,
        githubApiUrl: github.apiUrl,
        allowedOrganizations: ['physics-lab'],
      },
    },
  })
  admin = { authorization: `token ${issuedToken(hub, 'hubroot')}` }
}, 120_000)
afterAll(async () => {
  await hub?.stop()
  await github?.close()
})

/** A browser logged in to GitHub as `login` clicks "Sign in with GitHub"; the hub's last answer and where. */
async function signIn(login: string): Promise<{ browser: Client; res: Response; path: string }> {
  github.signedIn = login
  const browser = new Client(hub.url)
  const start = await browser.get('/hub/oauth_login?next=/hub/home')
  expect(start.status).toBe(302)
  const authorize = new URL(start.headers.get('location')!)
  expect(authorize.origin + authorize.pathname).toBe(`${github.url}/login/oauth/authorize`)
  expect(authorize.searchParams.get('scope')).toBe('read:org')
  const back = await fetch(authorize, { redirect: 'manual' })
  const callback = new URL(back.headers.get('location')!)
  const res = await browser.get(callback.pathname + callback.search)
  return { browser, res, path: callback.pathname }
}

describe('the github preset', () => {
  it('offers "Sign in with GitHub"', async () => {
    const page = await (await fetch(`${hub.url}/hub/login`)).text()
    expect(page).toContain('Sign in with GitHub')
  })

  it('logs in by the GitHub login, with organisations and teams as groups; an admin team makes an admin', async () => {
    const { browser, res } = await signIn('Octocat')
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/hub/home')
    const me = await json(await browser.api('GET', '/user'))
    expect(me.name).toBe('octocat')
    const model = await json(await fetch(`${hub.url}/hub/api/users/octocat`, { headers: admin }))
    expect(model.admin).toBe(true)
    expect([...model.groups].sort()).toEqual(['physics-lab', 'physics-lab:admins'])
    expect(model.auth_state.claims).toEqual({ login: 'Octocat', id: 1, name: null })
    expect(Object.keys(model.auth_state).sort()).toEqual(['access_token', 'claims', 'expires_at'])
  })

  it('keeps out members of no allowed organisation with a page that says why', async () => {
    const { res } = await signIn('mallory')
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('This hub takes members of physics-lab only.')
    expect((await fetch(`${hub.url}/hub/api/users/mallory`, { headers: admin })).status).toBe(404)
  })

  it('shows a readable page when GitHub refuses (the person declined, or no one is signed in)', async () => {
    const { res } = await signIn('nobody-signed-in')
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('The identity provider did not log you in (access_denied)')
  })

  it('a token revoked at GitHub ends the sessions at the refresh before a spawn', async () => {
    const { browser } = await signIn('hubot')
    expect((await browser.get('/hub/home')).status).toBe(200)
    github.revokeTokens('hubot')
    const start = await browser.api('POST', '/users/hubot/server')
    expect(start.status).toBe(403)
    expect((await json(start)).message).toMatch(/login has ended/)
    const home = await browser.get('/hub/home')
    expect(home.status).toBe(302)
    expect(home.headers.get('location')).toMatch(/^\/hub\/login/)
  })

  it('while GitHub is down, pages still open and a spawn that needs the refresh is refused with a message', async () => {
    const { browser } = await signIn('Octocat')
    // the last check long ago: the next page asks GitHub again (auth.refreshAgeSec)
    await hub.state.hset(hub.keys.authState('octocat'), 'checked', '1')
    github.unavailable = true
    try {
      expect((await browser.get('/hub/home')).status).toBe(200)
      const start = await browser.api('POST', '/users/octocat/server')
      expect(start.status).toBe(502)
      expect((await json(start)).message).toMatch(/identity provider could not be reached/)
    } finally {
      github.unavailable = false
    }
    expect((await browser.get('/hub/home')).status).toBe(200) // still logged in
  })
})
