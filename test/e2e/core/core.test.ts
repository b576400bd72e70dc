// The core path end to end: real Redis, hub process, nginx+Lua proxy and Jupyter servers on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, readFileSync } from 'node:fs'
import { request } from 'undici'
import { startStack, type Stack } from '../../support/stack'
import { Client, json } from '../../support/client'
import { openKernel } from '../../support/kernel'
import { waitFor } from '../../../runtime/src/wait'
import { signCookie, newSessionId } from '../../../control-plane/src/protocol'
import { addUser, logIn, ownToken, rootOf, type Admin } from '../../support/people'

let stack: Stack
let root: Admin
let n = 0

beforeAll(async () => {
  stack = await startStack()
  root = await rootOf(stack) // the first admin, with the CLI; the users below are added on the admin page
})
afterAll(async () => {
  await stack?.stop()
})

/** A new user, added by root on the admin page, logged in through the proxy. */
async function newUser(opts: { admin?: boolean } = {}) {
  const name = `user${++n}`
  await addUser(root, name, { admin: opts.admin, password: `${name}-password` })
  const client = await logIn(stack.url, name, `${name}-password`) // the form answered 302
  return { name, client }
}

/** A user whose server is running (started through the API, through the proxy). */
async function runningUser() {
  const u = await newUser()
  const res = await u.client.api('POST', `/users/${u.name}/server`)
  expect([201, 202]).toContain(res.status)
  await waitFor(
    `${u.name}'s server to be ready`,
    async () => {
      const r = await u.client.api('GET', '/user')
      return r.ok && (await json(r)).servers['']?.ready
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  )
  await waitFor(
    'the route to reach the proxy',
    async () => (await u.client.get(`/user/${u.name}/api/status`)).status === 200,
    { timeoutMs: 5000 },
  )
  return u
}

async function startKernel(u: { name: string; client: Client }) {
  const res = await u.client.request(`/user/${u.name}/api/kernels`, {
    method: 'POST',
    body: '{}',
    headers: { 'content-type': 'application/json' },
  })
  expect(res.status).toBe(201)
  const { id } = (await json(res)) as { id: string }
  return openKernel(`${stack.url.replace('http', 'ws')}/user/${u.name}/api/kernels/${id}/channels`, {
    cookie: u.client.cookieHeader(),
  })
}

describe('a user server through the edge proxy', () => {
  it('serves the Jupyter REST API and pages with the session cookie', async () => {
    const u = await runningUser()
    const status = await u.client.get(`/user/${u.name}/api/status`)
    expect(status.status).toBe(200)
    expect(await json(status)).toHaveProperty('started')
    const tree = await u.client.get(`/user/${u.name}/tree`)
    expect(tree.status).toBe(200)
    expect(await tree.text()).toContain('<title>Home')
  })

  it('runs code in a kernel over the WebSocket', async () => {
    const u = await runningUser()
    const kernel = await startKernel(u)
    try {
      expect((await kernel.execute('1+1')).result).toBe('2')
    } finally {
      kernel.close()
    }
  })

  it('answers 403 to another logged-in user', async () => {
    const owner = await runningUser()
    const other = await newUser()
    const res = await other.client.get(`/user/${owner.name}/tree`)
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('logged in as')
  })

  it('sends a visitor with no login to the login page, keeping the path', async () => {
    const owner = await runningUser()
    const res = await new Client(stack.url).get(`/user/${owner.name}/tree?x=1`)
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe(`/hub/login?next=${encodeURIComponent(`/user/${owner.name}/tree?x=1`)}`)
  })

  it('sends a logged-in user with no running server to the hub', async () => {
    const u = await newUser()
    const res = await u.client.get(`/user/${u.name}/lab`)
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe(`/hub/user/${u.name}/lab`)
    const page = await u.client.get(`/hub/user/${u.name}/lab`)
    expect(page.status).toBe(424)
    expect(await page.text()).toContain('Your server is not running')
  })

  it('accepts an API token for the Jupyter API and refuses it within a second of revocation', async () => {
    const u = await runningUser()
    const { token, id } = await ownToken(u.client, u.name) // from the user's own session
    const anon = new Client(stack.url)
    for (const scheme of ['token', 'Bearer']) {
      const res = await anon.get(`/user/${u.name}/api/contents`, { authorization: `${scheme} ${token}` })
      expect(res.status).toBe(200)
    }
    expect((await u.client.api('DELETE', `/users/${u.name}/tokens/${id}`)).status).toBe(204)
    const revokedAt = Date.now()
    await waitFor(
      'the revocation to reach the proxy',
      async () => (await anon.get(`/user/${u.name}/api/contents`, { authorization: `token ${token}` })).status === 401,
      { timeoutMs: 1000, intervalMs: 20 },
    )
    expect(Date.now() - revokedAt).toBeLessThan(1000)
  })

  it('treats forged, expired, tampered, malformed and revoked cookies as logged out', async () => {
    const u = await runningUser()
    const good = u.client.jar.get('edgehub-session')!
    const [, kid, , sid] = good.split('.')
    const secret = (await stack.cookieKey(kid))!.secret // the signing key itself, to sign cookies the hub never issued
    const exp = Math.floor(Date.now() / 1000) + 3600
    const variants = {
      forged: signCookie({ kid, user: u.name, sid: newSessionId(), exp }, Buffer.alloc(32, 7).toString('base64url')),
      expired: signCookie({ kid, user: u.name, sid, exp: Math.floor(Date.now() / 1000) - 5 }, secret),
      tampered: good.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A')),
      malformed: 'v1..%%%..',
      unknownKey: signCookie({ kid: 'nokey', user: u.name, sid, exp }, secret),
    }
    for (const [what, cookie] of Object.entries(variants)) {
      const res = await new Client(stack.url).get(`/user/${u.name}/tree`, { cookie: `edgehub-session=${cookie}` })
      expect(res.status, what).toBe(302)
      expect(res.headers.get('location'), what).toMatch(/^\/hub\/login\?next=/)
    }
    expect((await u.client.get(`/user/${u.name}/tree`)).status).toBe(200)
    await u.client.get('/hub/logout')
    const replay = new Client(stack.url)
    await waitFor(
      'the logout to reach the proxy',
      async () => (await replay.get(`/user/${u.name}/tree`, { cookie: `edgehub-session=${good}` })).status === 302,
      { timeoutMs: 1000, intervalMs: 20 },
    )
  })

  it('answers oversized headers with a 4xx and keeps serving', async () => {
    const u = await runningUser()
    const res = await request(`${stack.url}/user/${u.name}/tree`, {
      headers: { cookie: u.client.cookieHeader(), 'x-big': 'x'.repeat(64 * 1024) },
    })
    await res.body.dump()
    expect(res.statusCode).toBeGreaterThanOrEqual(400)
    expect(res.statusCode).toBeLessThan(500)
    expect((await u.client.get(`/user/${u.name}/api/status`)).status).toBe(200)
  })

  it('notices a server that exits on its own and shows the end of its log', async () => {
    const u = await runningUser()
    const rec = (await stack.serverRecord(u.name))! // its process id: no product path tells it
    process.kill(-Number(rec.spawner!.pid), 'SIGKILL')
    await waitFor('the hub to notice', async () => (await stack.serverRecord(u.name))?.state === 'stopped', {
      timeoutMs: 10_000,
      intervalMs: 100,
    })
    expect(await stack.tables.get('routes', `/user/${u.name}/`)).toBeUndefined()
    await waitFor(
      'the route to leave the proxy',
      async () => (await u.client.get(`/user/${u.name}/tree`)).headers.get('location') === `/hub/user/${u.name}/tree`,
      { timeoutMs: 1000, intervalMs: 20 },
    )
    const page = await (await u.client.get(`/hub/user/${u.name}/tree`)).text()
    expect(page).toContain('It stopped unexpectedly')
    expect(page).toContain('Jupyter Notebook') // a line from the server's own log
  })

  it('streams spawn progress as Server-Sent Events until the server is ready', async () => {
    const u = await newUser()
    const start = await u.client.postForm('/hub/spawn', {})
    expect(start.headers.get('location')).toBe(`/hub/spawn-pending/${u.name}`)
    const res = await u.client.get(`/hub/api/users/${u.name}/server/progress`)
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const text = await res.text() // the stream ends after the final event
    const events = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)))
    expect(events.at(-1)).toEqual({
      progress: 100,
      message: `Server ready at /user/${u.name}/`,
      ready: true,
      url: `/user/${u.name}/`,
    })
    expect(events.length).toBeGreaterThan(1)
    expect(events.map((e) => e.progress)).toEqual([...events.map((e) => e.progress)].sort((a, b) => a - b))
  })

  it("sends the server's own logout URL to the hub's logout", async () => {
    const u = await runningUser()
    const res = await u.client.get(`/user/${u.name}/logout`)
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/hub/logout')
  })

  it('refuses unsafe and disabled named-server names with a 400', async () => {
    const u = await newUser()
    const traversal = await u.client.api('POST', `/users/${u.name}/servers/x%2F..%2F..%2Fescape`)
    expect(traversal.status).toBe(400)
    expect((await json(traversal)).message).toContain('invalid server name')
    const named = await u.client.api('POST', `/users/${u.name}/servers/gpu`)
    expect(named.status).toBe(400)
    expect((await json(named)).message).toBe('named servers are not enabled on this hub')
    expect(await stack.serverRecords(u.name)).toEqual([])
  })

  it('stops a server on request, kernels included, and removes its route', async () => {
    const u = await runningUser()
    const kernel = await startKernel(u)
    const kernelPid = Number((await kernel.execute('import os; print(os.getpid())')).stdout.trim())
    kernel.close()
    expect(kernelPid).toBeGreaterThan(0)
    const res = await u.client.api('DELETE', `/users/${u.name}/server`)
    expect(res.status).toBe(204)
    expect((await stack.serverRecord(u.name))?.state).toBe('stopped')
    await waitFor(
      'the route to leave the proxy',
      async () => (await u.client.get(`/user/${u.name}/tree`)).status === 302,
      { timeoutMs: 1000, intervalMs: 20 },
    )
    await waitFor(
      'the kernel to be gone',
      () => !existsSync(`/proc/${kernelPid}`) || readFileSync(`/proc/${kernelPid}/stat`, 'utf8').includes(') Z '),
      { timeoutMs: 5000 },
    )
  })

  it('gives the server the JUPYTERHUB_* environment', async () => {
    const u = await runningUser()
    const kernel = await startKernel(u)
    try {
      const out = await kernel.execute(
        'import os, json; print(json.dumps({k: v for k, v in os.environ.items() if k.startswith("JUPYTERHUB_")}))',
      )
      const env = JSON.parse(out.stdout)
      expect(env).toMatchObject({
        JUPYTERHUB_USER: u.name,
        JUPYTERHUB_SERVER_NAME: '',
        JUPYTERHUB_BASE_URL: '/',
        JUPYTERHUB_SERVICE_PREFIX: `/user/${u.name}/`,
        JUPYTERHUB_API_URL: `${stack.url}/hub/api`,
        JUPYTERHUB_CLIENT_ID: `jupyterhub-user-${u.name}`,
        JUPYTERHUB_OAUTH_CALLBACK_URL: `/user/${u.name}/oauth_callback`,
        JUPYTERHUB_ACTIVITY_URL: `${stack.url}/hub/api/users/${u.name}/activity`,
      })
      // The server's API token works against the hub API.
      const me = await new Client(stack.url).get('/hub/api/user', {
        authorization: `token ${env.JUPYTERHUB_API_TOKEN}`,
      })
      expect((await json(me)).name).toBe(u.name)
    } finally {
      kernel.close()
    }
  })
})

describe('with the hub down', () => {
  it('keeps a running kernel streaming and the server answering, then comes back with nothing lost', async () => {
    const u = await runningUser()
    const { token } = await ownToken(u.client, u.name)
    const kernel = await startKernel(u)
    const seen: string[] = []
    try {
      const run = kernel.execute('import time\nfor i in range(10):\n    print(i, flush=True)\n    time.sleep(1)', (t) =>
        seen.push(t),
      )
      await waitFor('the loop to print', () => seen.length > 0, { timeoutMs: 10_000 })
      await stack.killHub('SIGKILL')
      const hubPage = await new Client(stack.url).get('/hub/login')
      expect(hubPage.status).toBe(503)
      expect(await hubPage.text()).toContain('temporarily unavailable')
      const during = await u.client.get(`/user/${u.name}/api/status`)
      expect(during.status).toBe(200)
      const byToken = await new Client(stack.url).get(`/user/${u.name}/api/contents`, {
        authorization: `token ${token}`,
      })
      expect(byToken.status).toBe(200)
      const out = await run
      expect(out.stdout.trim().split('\n')).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    } finally {
      kernel.close()
      if (stack.hub.proc.exitCode !== null || stack.hub.proc.signalCode !== null) await stack.startHub()
    }
    // The same session cookie and token still work with the new hub process.
    expect((await json(await u.client.api('GET', '/user'))).servers['']?.ready).toBe(true)
    const me = await new Client(stack.url).get('/hub/api/user', { authorization: `token ${token}` })
    expect((await json(me)).name).toBe(u.name)
  })
})

describe('the hub log', () => {
  it('never contains a session cookie or a token', () => {
    const log = readFileSync(`${stack.dir}/hub.log`, 'utf8')
    expect(log).not.toMatch(/v1\.[\w-]+\.[\w-]+\.[\w-]{22}\.\d+\.[\w-]{43}/)
  })
})
