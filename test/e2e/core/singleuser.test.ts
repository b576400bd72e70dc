// A real jupyterhub-singleuser (Debian's jupyterhub package) started by edgehub: it checks what it
// gets from the hub (GET /hub/api/user with the token the proxy forwards), lets its owner in through
// the proxy, reports activity, and runs the OAuth flow with
// the hub when a browser reaches it without the proxy's token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { Client, json } from '../../support/client'
import { waitFor } from '../../../runtime/src/wait'
import { addUser, logIn, ownToken, person, rootOf, type Admin } from '../../support/people'

let stack: Stack
let root: Admin

beforeAll(async () => {
  stack = await startStack({
    // the proxy reports no activity here, so what arrives is the server's own report; admins do not
    // hold access:servers (the refusal below), whatever the default
    proxy: { workers: 1, activityFlushSec: 3600, adminAccess: false },
    roles: [{ name: 'helper', scopes: ['access:servers!user=olga'], users: ['hal'] }],
    spawner: {
      startTimeoutSec: 60,
      'local-process': { command: ['jupyterhub-singleuser'], env: { JUPYTERHUB_ACTIVITY_INTERVAL: '1' } },
    },
  })
  root = await rootOf(stack) // the first admin, with the CLI; the users below are added on the admin page
}, 60_000)
afterAll(async () => stack?.stop(), 60_000)

describe('jupyterhub-singleuser', () => {
  it('starts against edgehub, lets its owner in through the proxy and reports activity', async () => {
    const { auth } = await person(root, 'sue') // with a token from her own session
    const start = await fetch(`${stack.url}/hub/api/users/sue/server`, { method: 'POST', headers: auth })
    expect([201, 202]).toContain(start.status)
    await waitFor(
      'the server',
      async () =>
        (await json(await fetch(`${stack.url}/hub/api/users/sue`, { headers: auth }))).servers['']?.ready === true,
      { timeoutMs: 60_000 },
    )
    const status = await fetch(`${stack.url}/user/sue/api/status`, { headers: auth })
    expect(status.status).toBe(200)
    expect(await json(status)).toHaveProperty('started')
    const since = Date.now()
    const contents = await fetch(`${stack.url}/user/sue/api/contents`, { headers: auth })
    expect(contents.status).toBe(200)
    // jupyterhub-singleuser posts its last activity to JUPYTERHUB_ACTIVITY_URL with its own token
    await waitFor(
      'the server to report activity',
      async () => {
        const m = await json(await fetch(`${stack.url}/hub/api/users/sue`, { headers: auth }))
        return Date.parse(m.servers['']?.last_activity ?? '') >= since
      },
      { timeoutMs: 10_000 },
    )
  }, 90_000)
})

describe('OAuth with jupyterhub-singleuser', () => {
  const login = async (name: string) => {
    await addUser(root, name, { password: `${name}-password` })
    return logIn(stack.url, name, `${name}-password`) // the form answered 302
  }

  /** Follows the OAuth dance by hand: server (direct) -> hub authorize (proxy) -> server callback. */
  async function viaOAuth(direct: Client, hub: Client, path: string) {
    const first = await direct.get(path)
    expect(first.status).toBe(302)
    const authorize = first.headers.get('location')!
    expect(authorize).toMatch(/^\/hub\/api\/oauth2\/authorize\?/)
    expect(new URL(authorize, stack.url).searchParams.get('client_id')).toMatch(/^jupyterhub-user-/)
    return { authorize, hubAnswer: await hub.get(authorize) }
  }

  it('logs the owner in without a consent page; a non-owner with access confirms first; others are refused', async () => {
    const owner = await login('olga')
    const { token } = await ownToken(owner, 'olga')
    expect([201, 202]).toContain(
      (
        await fetch(`${stack.url}/hub/api/users/olga/server`, {
          method: 'POST',
          headers: { authorization: `token ${token}` },
        })
      ).status,
    )
    await waitFor(
      'the server',
      async () =>
        (await json(await fetch(`${stack.url}/hub/api/users/olga`, { headers: { authorization: `token ${token}` } })))
          .servers['']?.ready === true,
      {
        timeoutMs: 60_000,
      },
    )
    // where the server listens, from the routing table an admin reads (GET /hub/api/proxy)
    const routes = await json(await fetch(`${stack.url}/hub/api/proxy`, { headers: root.auth }))
    const rec = { target: new URL(routes['/user/olga/'].target).host }
    const put = await fetch(`${stack.url}/user/olga/api/contents/hello.txt`, {
      method: 'PUT',
      headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'file', format: 'text', content: 'hello from olga' }),
    })
    expect(put.status).toBe(201)

    // the owner: straight through
    const direct = new Client(`http://${rec.target}`)
    const { hubAnswer } = await viaOAuth(direct, owner, '/user/olga/files/hello.txt')
    expect(hubAnswer.status).toBe(302)
    const callback = hubAnswer.headers.get('location')!
    expect(callback).toMatch(/^\/user\/olga\/oauth_callback\?code=/)
    const done = await direct.get(callback)
    expect(done.status).toBe(302)
    // (classic notebook refuses /files/ requests without a same-origin Referer, as a browser sends)
    const file = await direct.get(done.headers.get('location')!, { referer: `http://${rec.target}/user/olga/` })
    expect(file.status).toBe(200)
    expect(await file.text()).toBe('hello from olga')
    // the token the server got is an OAuth token of olga's for this client
    const tokens = await json(
      await fetch(`${stack.url}/hub/api/users/olga/tokens`, { headers: { authorization: `token ${token}` } }),
    )
    expect(
      tokens.api_tokens.some((t: { oauth_client: string; scopes: string[] }) =>
        t.scopes.includes('access:servers!server=olga/'),
      ),
    ).toBe(true)

    // a user without access to olga's server: refused at the hub
    const eve = await login('eve')
    const refused = await viaOAuth(new Client(`http://${rec.target}`), eve, '/user/olga/files/hello.txt')
    expect(refused.hubAnswer.status).toBe(403)
    expect(await refused.hubAnswer.text()).toContain('do not have permission')

    // an admin without proxy.adminAccess has no access:servers either
    const admin = await login('ada')
    // made an admin by root after her login, through the API
    expect(
      (
        await fetch(`${stack.url}/hub/api/users/ada`, {
          method: 'PATCH',
          headers: { ...root.auth, 'content-type': 'application/json' },
          body: JSON.stringify({ admin: true }),
        })
      ).status,
    ).toBe(200)
    expect(
      (await viaOAuth(new Client(`http://${rec.target}`), admin, '/user/olga/files/hello.txt')).hubAnswer.status,
    ).toBe(403)

    // a user a role gives access:servers!user=olga sees the consent page, and gets in after confirming
    const hal = await login('hal')
    const halDirect = new Client(`http://${rec.target}`)
    const consent = await viaOAuth(halDirect, hal, '/user/olga/files/hello.txt')
    expect(consent.hubAnswer.status).toBe(200)
    const html = await consent.hubAnswer.text()
    expect(html).toContain('Authorize access')
    const fields = Object.fromEntries(
      [...html.matchAll(/name="([^"]+)" value="([^"]*)"/g)]
        .filter(([, k]) => k !== '_xsrf')
        .map(([, k, v]) => [k, v.replace(/&amp;/g, '&')]),
    )
    const confirmed = await hal.postForm('/hub/api/oauth2/authorize', fields)
    expect(confirmed.status).toBe(302)
    const cb = await halDirect.get(confirmed.headers.get('location')!)
    expect(cb.status).toBe(302)
    expect(
      (await halDirect.get('/user/olga/files/hello.txt', { referer: `http://${rec.target}/user/olga/` })).status,
    ).toBe(200)
  }, 90_000)
})
