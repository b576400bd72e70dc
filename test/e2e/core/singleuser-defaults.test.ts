// The real jupyterhub-singleuser (Debian's jupyterhub package) started as JupyterHub 2 and later start
// it: command jupyterhub-singleuser, no args. Everything it knows comes from JupyterHub's environment:
// where to listen (JUPYTERHUB_SERVICE_URL), its base URL, the hub's API, its landing page
// (JUPYTERHUB_DEFAULT_URL, from spawner.defaultUrl). A wrapper that changes directory before running
// it keeps that directory as the server's root. As root, servers run as the stack's own Unix accounts.
import { chmodSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { Client, json } from '../../support/client'
import { waitFor } from '../../../runtime/src/wait'
import { person, rootOf, startServer, type Admin } from '../../support/people'

/** The server process of NAME's default server: its pid and port, as the hub recorded them. */
async function serverProcess(stack: Stack, name: string): Promise<{ pid: number; port: number }> {
  const rec = await stack.serverRecord(name)
  const s = rec?.spawner as { pid: number; port: number } | undefined
  if (!s) throw new Error(`${name} has no server process recorded`)
  return { pid: s.pid, port: s.port }
}

/** A process's environment, arguments and working directory, from /proc (readable for the hub's own processes and as root). */
function processOf(pid: number) {
  const env = new Map(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as [string, string]),
  )
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
  return { env, argv, cwd: readlinkSync(`/proc/${pid}/cwd`) }
}

const putFile = (stack: Stack, who: Admin, path: string, content: string) =>
  fetch(`${stack.url}/user/${who.name}/api/contents/${path}`, {
    method: 'PUT',
    headers: { ...who.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'file', format: 'text', content }),
  })

describe('jupyterhub-singleuser with no args and spawner.defaultUrl', () => {
  let stack: Stack
  let root: Admin
  let sue: Admin

  beforeAll(async () => {
    stack = await startStack({
      // the proxy reports no activity here, so what arrives is the server's own report
      proxy: { workers: 1, activityFlushSec: 3600 },
      spawner: {
        startTimeoutSec: 60,
        defaultUrl: '/tree/{username}',
        'local-process': { command: ['jupyterhub-singleuser'], args: [], env: { JUPYTERHUB_ACTIVITY_INTERVAL: '1' } },
      },
    })
    root = await rootOf(stack)
    sue = await person(root, 'sue')
    await startServer(stack.url, sue.token, 'sue', { timeoutMs: 60_000 })
    // the folder the default URL opens (the server's root is her home)
    const dir = await fetch(`${stack.url}/user/sue/api/contents/sue`, {
      method: 'PUT',
      headers: { ...sue.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'directory' }),
    })
    expect(dir.status).toBe(201)
  }, 120_000)
  afterAll(async () => stack?.stop(), 60_000)

  it('gets no flags and listens where JUPYTERHUB_SERVICE_URL says, in its working directory', async () => {
    const { pid, port } = await serverProcess(stack, 'sue')
    const p = processOf(pid)
    // setpriv has exec'd the server: python3 /usr/bin/jupyterhub-singleuser, and nothing after it
    const at = p.argv.findIndex((a) => a.endsWith('jupyterhub-singleuser'))
    expect(at).toBeGreaterThanOrEqual(0)
    expect(p.argv.slice(at + 1)).toEqual([])
    expect(p.env.get('JUPYTERHUB_SERVICE_URL')).toBe(`http://127.0.0.1:${port}/user/sue/`)
    expect(p.env.get('JUPYTERHUB_SERVICE_PREFIX')).toBe('/user/sue/')
    expect(p.env.get('JUPYTERHUB_PUBLIC_URL')).toBe(`${stack.url}/user/sue/`)
    expect(p.env.get('JUPYTERHUB_PUBLIC_HUB_URL')).toBe(`${stack.url}/hub/`)
    expect(p.env.get('JUPYTERHUB_HOST')).toBe('') // no per-user hosts: links to the hub stay relative
    expect(p.env.get('JUPYTERHUB_DEFAULT_URL')).toBe('/tree/sue')
    expect(p.env.get('JUPYTERHUB_OAUTH_SCOPES')).toBe(p.env.get('JUPYTERHUB_OAUTH_ACCESS_SCOPES'))
    expect(JSON.parse(p.env.get('JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES') ?? '')).toEqual([
      'access:servers!server=sue/',
    ])
    expect(p.env.has('JUPYTERHUB_ROOT_DIR')).toBe(false) // no notebookDir: the working directory is the root
    // it answers on that port, with its base URL
    const direct = await fetch(`http://127.0.0.1:${port}/user/sue/api/status`, { headers: sue.auth })
    expect(direct.status).toBe(200)
    expect(await json(direct)).toHaveProperty('started')
    // what it writes lands in its working directory (her account's home)
    expect((await putFile(stack, sue, 'hello.txt', 'hello from sue')).status).toBe(201)
    expect(readFileSync(join(p.cwd, 'hello.txt'), 'utf8')).toBe('hello from sue')
  })

  it("reports activity to the hub: the server's last_activity moves", async () => {
    const before = (await json(await fetch(`${stack.url}/hub/api/users/sue`, { headers: sue.auth }))).servers['']
      .last_activity
    const since = Date.now()
    expect((await fetch(`${stack.url}/user/sue/api/contents`, { headers: sue.auth })).status).toBe(200)
    await waitFor(
      'the server to report activity',
      async () => {
        const last = (await json(await fetch(`${stack.url}/hub/api/users/sue`, { headers: sue.auth }))).servers['']
          ?.last_activity
        return last !== before && Date.parse(last ?? '') >= since - 1000
      },
      { timeoutMs: 15_000 },
    )
  }, 30_000)

  it('sends its owner to the default URL, from the hub and from the server itself, through the proxy', async () => {
    const browser = sue.client
    // the hub: /hub/ of a user whose server runs
    const hub = await browser.get('/hub/')
    expect(hub.status).toBe(302)
    expect(hub.headers.get('location')).toBe('/user/sue/tree/sue')
    const spawn = await browser.get('/hub/spawn')
    expect(spawn.headers.get('location')).toBe('/user/sue/tree/sue')
    // the server: its base URL redirects there (JUPYTERHUB_DEFAULT_URL), and the page is served
    const base = await browser.get('/user/sue/')
    expect(base.status).toBe(302)
    expect(new URL(base.headers.get('location')!, stack.url).pathname).toBe('/user/sue/tree/sue')
    const page = await browser.get('/user/sue/tree/sue')
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('/user/sue/')
  })

  it("logs its owner in with the hub's OAuth when reached without the proxy, on the default URL", async () => {
    const { port } = await serverProcess(stack, 'sue')
    const direct = new Client(`http://127.0.0.1:${port}`)
    // its base URL sends anyone to the default URL, which asks for a login with the hub
    const first = await direct.get('/user/sue/')
    expect(first.status).toBe(302)
    expect(new URL(first.headers.get('location')!, direct.base).pathname).toBe('/user/sue/tree/sue')
    const second = await direct.get('/user/sue/tree/sue')
    expect(second.status).toBe(302)
    const authorize = second.headers.get('location')!
    expect(authorize).toMatch(/^\/hub\/api\/oauth2\/authorize\?/)
    const answer = await sue.client.get(authorize)
    expect(answer.status).toBe(302)
    const callback = answer.headers.get('location')!
    expect(callback).toMatch(/^\/user\/sue\/oauth_callback\?code=/)
    const done = await direct.get(callback)
    expect(done.status).toBe(302)
    const back = new URL(done.headers.get('location')!, direct.base)
    expect(back.pathname).toBe('/user/sue/tree/sue')
    expect((await direct.get(`${back.pathname}${back.search}`)).status).toBe(200)
  })

  it('refuses another user, through the proxy and through its OAuth login', async () => {
    const bob = await person(root, 'bob')
    const viaProxy = await bob.client.get('/user/sue/tree/sue')
    expect(viaProxy.status).toBe(403)
    const { port } = await serverProcess(stack, 'sue')
    const direct = new Client(`http://127.0.0.1:${port}`)
    const authorize = (await direct.get('/user/sue/tree/sue')).headers.get('location')!
    expect(authorize).toMatch(/^\/hub\/api\/oauth2\/authorize\?/)
    expect((await bob.client.get(authorize)).status).toBe(403)
    // nor does the server itself take bob's own token
    expect((await fetch(`http://127.0.0.1:${port}/user/sue/api/contents`, { headers: bob.auth })).status).toBe(403)
    expect((await fetch(`http://127.0.0.1:${port}/user/sue/api/contents`, { headers: sue.auth })).status).toBe(200)
  })
})

describe('a wrapper that changes directory before running jupyterhub-singleuser', () => {
  let stack: Stack

  beforeAll(async () => {
    stack = await startStack({
      proxy: { workers: 1 },
      spawner: {
        startTimeoutSec: 60,
        // args unset: the defaults, which for jupyterhub-singleuser are none
        'local-process': {
          command: ['sh', '-c', 'mkdir -p work && cd work && exec jupyterhub-singleuser "$@"', 'jupyterhub-singleuser'],
        },
      },
    })
  }, 60_000)
  afterAll(async () => stack?.stop(), 60_000)

  it("serves the wrapper's directory: no --notebook-dir and no JUPYTERHUB_ROOT_DIR override it", async () => {
    const root = await rootOf(stack)
    const ann = await person(root, 'ann')
    await startServer(stack.url, ann.token, 'ann', { timeoutMs: 60_000 })
    const { pid } = await serverProcess(stack, 'ann')
    const p = processOf(pid)
    expect(p.cwd).toMatch(/\/work$/)
    expect(p.argv.some((a) => a.startsWith('--notebook-dir'))).toBe(false)
    expect(p.env.has('JUPYTERHUB_ROOT_DIR')).toBe(false)
    expect((await putFile(stack, ann, 'notes.txt', 'in work')).status).toBe(201)
    expect(readFileSync(join(p.cwd, 'notes.txt'), 'utf8')).toBe('in work')
    expect(existsSync(join(p.cwd, '..', 'notes.txt'))).toBe(false)
  }, 90_000)
})

describe('jupyterhub-singleuser with spawner.local-process.notebookDir', () => {
  let stack: Stack
  let parent: string

  beforeAll(async () => {
    // a directory servers' accounts can pass through (the stack's own is closed to them)
    parent = mkdtempSync(join(tmpdir(), 'edgehub-nb-'))
    chmodSync(parent, 0o755)
    stack = await startStack({
      proxy: { workers: 1 },
      spawner: {
        startTimeoutSec: 60,
        'local-process': { command: ['jupyterhub-singleuser'], notebookDir: `${parent}/{user}` },
      },
    })
  }, 60_000)
  afterAll(async () => {
    await stack?.stop()
    if (parent) rmSync(parent, { recursive: true, force: true })
  }, 60_000)

  it('serves that directory, named in JUPYTERHUB_ROOT_DIR as JupyterHub names its notebook_dir', async () => {
    const root = await rootOf(stack)
    const cy = await person(root, 'cy')
    await startServer(stack.url, cy.token, 'cy', { timeoutMs: 60_000 })
    const { pid } = await serverProcess(stack, 'cy')
    const p = processOf(pid)
    expect(p.env.get('JUPYTERHUB_ROOT_DIR')).toBe(join(parent, 'cy'))
    expect(p.argv.some((a) => a.startsWith('--'))).toBe(false)
    expect((await putFile(stack, cy, 'notes.txt', 'in the notebook dir')).status).toBe(201)
    expect(readFileSync(join(parent, 'cy', 'notes.txt'), 'utf8')).toBe('in the notebook dir')
  }, 90_000)
})

describe('jupyter notebook with its default flags and spawner.defaultUrl', () => {
  let stack: Stack

  beforeAll(async () => {
    stack = await startStack({
      proxy: { workers: 1 },
      spawner: { startTimeoutSec: 60, defaultUrl: '/edit/{username}.txt' },
    })
  }, 60_000)
  afterAll(async () => stack?.stop(), 60_000)

  it('gets the default URL as its flag, and its base URL and the hub send the owner there', async () => {
    const root = await rootOf(stack)
    const dee = await person(root, 'dee')
    await startServer(stack.url, dee.token, 'dee', { timeoutMs: 60_000 })
    const { pid } = await serverProcess(stack, 'dee')
    expect(processOf(pid).argv).toContain('--NotebookApp.default_url=/edit/dee.txt')
    expect((await putFile(stack, dee, 'dee.txt', 'hello')).status).toBe(201)
    const hub = await dee.client.get('/hub/')
    expect(hub.headers.get('location')).toBe('/user/dee/edit/dee.txt')
    const base = await dee.client.get('/user/dee/')
    expect(base.status).toBe(302)
    expect(new URL(base.headers.get('location')!, stack.url).pathname).toBe('/user/dee/edit/dee.txt')
    expect((await dee.client.get('/user/dee/edit/dee.txt')).status).toBe(200)
  }, 90_000)
})
