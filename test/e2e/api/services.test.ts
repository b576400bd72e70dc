// Services from the config through the proxy with two hub replicas: a managed one the leader starts,
// restarts and gives the JupyterHub service environment; an external one with its own token; their
// API tokens, roles and OAuth clients; /hub/api/services.
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type Cluster } from '../../support/cluster'
import { Client, json } from '../../support/client'
import { waitFor } from '../../../runtime/src/wait'
import { freePort } from '../../../runtime/src/ports'
import { okServerSpawner } from '../../support/servers'
import { addUser, person, rootOf, type Admin } from '../../support/people'

// A managed service: answers with who the hub says its token is, and the environment it got.
const ECHO = `
import http.server, json, os, sys, urllib.request
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        req = urllib.request.Request(os.environ["JUPYTERHUB_API_URL"] + "/user", headers={"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]})
        me = json.load(urllib.request.urlopen(req))
        env = {k: v for k, v in os.environ.items() if k.startswith("JUPYTERHUB_") and k != "JUPYTERHUB_API_TOKEN"}
        body = json.dumps({"me": me, "env": env, "pid": os.getpid(), "path": self.path}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
`
const EXTERNAL_TOKEN = 'external-service-token-0123456789abcdef'

let c: Cluster
let external: Server
let admin: Admin
let root: string
let sam: string

beforeAll(async () => {
  const echoPort = await freePort('127.0.0.1')
  const extPort = await freePort('127.0.0.1')
  external = createServer((req, res) => res.end(`external ${req.url}`)).listen(extPort, '127.0.0.1')
  c = await startCluster({
    hubs: 2,
    proxies: 1,
    haproxy: false,
    overrides: {
      services: [
        {
          name: 'echo',
          url: `http://127.0.0.1:${echoPort}`,
          command: ['python3', '-c', ECHO, String(echoPort)],
          oauthNoConfirm: true,
        },
        {
          name: 'grader',
          url: `http://127.0.0.1:${extPort}`,
          apiToken: EXTERNAL_TOKEN,
          display: false,
          info: { course: 'intro' },
        },
      ],
      roles: [
        {
          name: 'grading',
          scopes: ['access:servers!user=sam', 'read:users!user=sam', 'list:services'],
          services: ['grader'],
        },
        { name: 'echo-users', scopes: ['access:services!service=echo'], users: ['sam'] },
      ],
      spawner: okServerSpawner(),
    },
  })
  // root with the CLI; sam added by root on the admin page, with a token from his own session; zoe through the API
  admin = await rootOf(c)
  root = admin.token
  sam = (await person(admin, 'sam', { password: 'sam-password' })).token
  await addUser(admin, 'zoe')
}, 90_000)
afterAll(async () => {
  await c?.stop()
  external?.close()
}, 60_000)

const get = (path: string, token: string) =>
  fetch(`${c.url}${path}`, { headers: { authorization: `token ${token}` }, redirect: 'manual' })

describe('managed service', () => {
  it('runs with the JupyterHub service environment, its own token, behind /services/NAME/', async () => {
    const body = await waitFor(
      'the service',
      async () => {
        const r = await get('/services/echo/hello', sam)
        return r.status === 200 && json(r)
      },
      { timeoutMs: 20_000 },
    )
    expect(body.me).toMatchObject({ kind: 'service', name: 'echo' })
    expect(body.path).toBe('/services/echo/hello')
    expect(body.env).toMatchObject({
      JUPYTERHUB_SERVICE_NAME: 'echo',
      JUPYTERHUB_CLIENT_ID: 'service-echo',
      JUPYTERHUB_SERVICE_PREFIX: '/services/echo/',
      JUPYTERHUB_OAUTH_CALLBACK_URL: '/services/echo/oauth_callback',
      JUPYTERHUB_OAUTH_ACCESS_SCOPES: '["access:services!service=echo"]',
    })
    expect(body.env.JUPYTERHUB_API_URL).toMatch(/\/hub\/api$/)
  })

  it('is started again when it exits', async () => {
    const first = await waitFor(
      'the service',
      async () => {
        const r = await get('/services/echo/', sam)
        return r.status === 200 && json(r)
      },
      { timeoutMs: 20_000 },
    )
    process.kill(first.pid, 'SIGKILL')
    const again = await waitFor(
      'a new process',
      async () => {
        const r = await get('/services/echo/', sam)
        const b = r.status === 200 && (await json(r))
        return b && b.pid !== first.pid && b
      },
      { timeoutMs: 20_000 },
    )
    expect(again.me.name).toBe('echo')
  })
})

describe('external service', () => {
  it('is routed, and its configured token acts with its roles at the hub and the proxy', async () => {
    const r = await get('/services/grader/x', sam)
    expect(r.status).toBe(200)
    expect(await r.text()).toBe('external /services/grader/x')
    const me = await json(await get('/hub/api/user', EXTERNAL_TOKEN))
    expect(me).toMatchObject({ kind: 'service', name: 'grader', roles: ['grading'] })
    expect(me.scopes).toContain('access:servers!user=sam')
    expect((await get('/hub/api/users/sam', EXTERNAL_TOKEN)).status).toBe(200)
    expect((await get('/hub/api/users/zoe', EXTERNAL_TOKEN)).status).toBe(404)
    // at the proxy: sam's server yes, zoe's no
    for (const u of ['sam', 'zoe'])
      expect(
        (
          await fetch(`${c.url}/hub/api/users/${u}/server`, {
            method: 'POST',
            headers: { authorization: `token ${root}` },
          })
        ).status,
      ).toBe(201)
    await waitFor('the route', async () => (await get('/user/sam/', sam)).status === 200)
    expect((await get('/user/sam/', EXTERNAL_TOKEN)).status).toBe(200)
    await waitFor('the route', async () => (await get('/user/zoe/', root)).status !== 302)
    expect((await get('/user/zoe/', EXTERNAL_TOKEN)).status).toBe(403)
  })
})

describe('/hub/api/services', () => {
  it('lists configured services as JupyterHub models, by scope', async () => {
    const all = await json(await get('/hub/api/services', root))
    expect(Object.keys(all).sort()).toEqual(['echo', 'grader'])
    expect(all.grader).toMatchObject({
      kind: 'service',
      name: 'grader',
      admin: false,
      roles: ['grading'],
      prefix: '/services/grader/',
      display: false,
      info: { course: 'intro' },
    })
    expect(all.echo.command[0]).toBe('python3')
    expect(await json(await get('/hub/api/services/echo', root))).toMatchObject({
      name: 'echo',
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    })
    expect((await get('/hub/api/services', sam)).status).toBe(403)
    expect((await get('/hub/api/services/nope', root)).status).toBe(404)
  })
})

describe('OAuth for a service', () => {
  it('gives a user allowed to access the service a token for it; refuses a user without access', async () => {
    const hub = new Client(c.url)
    expect((await hub.login('sam', 'sam-password')).status).toBe(302)
    const redirect = '/services/echo/oauth_callback'
    const authorize = `/hub/api/oauth2/authorize?${new URLSearchParams({ client_id: 'service-echo', redirect_uri: redirect, response_type: 'code', state: 's1' })}`
    const r = await hub.get(authorize)
    expect(r.status).toBe(302) // oauthNoConfirm: no consent page
    const back = new URL(r.headers.get('location')!, c.url)
    expect(back.pathname).toBe(redirect)
    expect(back.searchParams.get('state')).toBe('s1')
    const code = back.searchParams.get('code')!
    // the client secret is the service's own token (the managed one's is not visible here): a wrong one
    const wrong = await fetch(`${c.url}/hub/api/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirect,
        client_id: 'service-echo',
        client_secret: 'nope',
      }),
    })
    expect(wrong.status).toBe(401)
    expect(await json(wrong)).toMatchObject({ error: 'invalid_client' })

    // the external service (secret = its configured token): sam lacks access:services!service=grader
    const denied = await hub.get(
      `/hub/api/oauth2/authorize?${new URLSearchParams({ client_id: 'service-grader', redirect_uri: '/services/grader/oauth_callback', response_type: 'code' })}`,
    )
    expect(denied.status).toBe(403)
    expect(await denied.text()).toContain('do not have permission')
  })

  it('exchanges a code once, for the right client and secret, with PKCE', async () => {
    await addUser(admin, 'ada', { admin: true, password: 'ada-password' })
    const hub = new Client(c.url)
    expect((await hub.login('ada', 'ada-password')).status).toBe(302)
    const verifier = 'v'.repeat(50)
    const challenge = (await import('node:crypto')).createHash('sha256').update(verifier).digest('base64url')
    const redirect = '/services/grader/oauth_callback'
    const getCode = async () => {
      const page = await hub.get(
        `/hub/api/oauth2/authorize?${new URLSearchParams({ client_id: 'service-grader', redirect_uri: redirect, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256', state: 'xyz' })}`,
      )
      expect(page.status).toBe(200) // an admin may access services; not a trusted one: consent first
      const html = await page.text()
      expect(html).toContain('Service grader')
      const fields = Object.fromEntries(
        [...html.matchAll(/name="([^"]+)" value="([^"]*)"/g)]
          .filter(([, k]) => k !== '_xsrf')
          .map(([, k, v]) => [k, v.replace(/&amp;/g, '&')]),
      )
      const ok = await hub.postForm('/hub/api/oauth2/authorize', fields)
      expect(ok.status).toBe(302)
      const back = new URL(ok.headers.get('location')!, c.url)
      expect(back.searchParams.get('state')).toBe('xyz')
      return back.searchParams.get('code')!
    }
    const exchange = (code: string, extra: Record<string, string>) =>
      fetch(`${c.url}/hub/api/oauth2/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirect,
          client_id: 'service-grader',
          client_secret: EXTERNAL_TOKEN,
          ...extra,
        }),
      })

    const first = await getCode()
    expect(await json(await exchange(first, { code_verifier: 'w'.repeat(50) }))).toMatchObject({
      error: 'invalid_grant',
    })
    expect((await exchange(first, { code_verifier: verifier })).status).toBe(400) // a code is used up by any attempt

    const code = await getCode()
    expect(await json(await exchange(code, { code_verifier: verifier, redirect_uri: '/elsewhere' }))).toMatchObject({
      error: 'invalid_grant',
    })
    const code2 = await getCode()
    const res = await exchange(code2, { code_verifier: verifier })
    expect(res.status).toBe(200)
    const t = await json(res)
    expect(t).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) })
    const me = await json(await get('/hub/api/user', t.access_token))
    expect(me).toMatchObject({ kind: 'user', name: 'ada' })
    expect(me.scopes).toContain('access:services!service=grader')
    expect(me.scopes).not.toContain('admin:users') // only what the client got, not all of ada's
    expect(await json(await exchange(code2, { code_verifier: verifier }))).toMatchObject({ error: 'invalid_grant' }) // replay
  })
})
