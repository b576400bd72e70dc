// Users, tokens, sessions and servers set up the way people do it, for tests that are not about the
// store: the first admin with the CLI on the hub's machine (`edgehub user add NAME --admin
// --password-stdin`), everyone else by that admin through the REST API or the admin page's add-user
// form, a user's own token through POST /hub/api/users/NAME/tokens from their login session, servers
// through POST /hub/api/users/NAME/server[s/SERVER]. Everything but the CLI is HTTP through the proxy
// (a run of the CLI costs about 0.7 s, a request a few ms). Works with a Stack and with a Cluster.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { Client, json } from './client'
import { BIN } from './stack'
import { waitFor } from '../../runtime/src/wait'

/** What these helpers need of a Stack or a Cluster: the public URL and where the config file is. */
export interface Hub {
  url: string
  dir: string
  configFile?: string
}

/** A user as a test holds them: a logged-in browser (when they have a password) and an API token. */
export interface Person {
  name: string
  password?: string
  /** A cookie-jar browser at the hub's URL, logged in through the login form (users with a password). */
  client?: Client
  token: string
  auth: { authorization: string }
}

/** A person who is an admin, with a password, a session and a full token. */
export type Admin = Required<Person>

const configFileOf = (hub: Hub) => hub.configFile ?? join(hub.dir, 'edgehub.yaml')

/** Runs `edgehub ARGS --config FILE` as an operator on the hub's machine; its trimmed stdout. */
export function cli(hub: Hub, args: string[], input?: string): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))
  const r = spawnSync(process.execPath, [BIN, ...args, '--config', configFileOf(hub)], { input, encoding: 'utf8', env })
  if (r.status !== 0) throw new Error(`edgehub ${args.join(' ')}: ${r.stderr.trim()}`)
  return r.stdout.trim()
}

const authOf = (token: string) => ({ authorization: `token ${token}` })

async function expectStatus(what: string, res: Response, ok: number[]): Promise<Response> {
  if (!ok.includes(res.status)) throw new Error(`${what}: ${res.status} ${await res.text()}`)
  return res
}

/** Logs in through the login form (POST /hub/login) at `url`; the browser holding the session. */
export async function logIn(url: string, name: string, password: string): Promise<Client> {
  const client = new Client(url)
  const res = await client.login(name, password)
  if (res.status !== 302) throw new Error(`login as ${name}: ${res.status}`)
  return client
}

/**
 * A user's own token, asked for with their login session (POST /hub/api/users/NAME/tokens), with
 * every scope they hold unless `scopes` narrows it.
 */
export async function ownToken(
  client: Client,
  name: string,
  opts: { scopes?: string[]; note?: string; expiresIn?: number } = {},
): Promise<{ token: string; id: string }> {
  const body = {
    note: opts.note ?? 'test',
    ...(opts.scopes ? { scopes: opts.scopes } : {}),
    ...(opts.expiresIn ? { expires_in: opts.expiresIn } : {}),
  }
  const res = await expectStatus(
    `POST /users/${name}/tokens`,
    await client.api('POST', `/users/${encodeURIComponent(name)}/tokens`, body),
    [201],
  )
  const t = await json(res)
  return { token: t.token, id: t.id }
}

/**
 * The first admin, as an operator makes one: `edgehub user add NAME --admin --password-stdin` (the one
 * CLI run), then a login through the form and a token from that session. Once per hub: the user must
 * not exist yet.
 */
export async function rootOf(hub: Hub, name = 'root', password = `${name}-password`): Promise<Admin> {
  cli(hub, ['user', 'add', name, '--admin', '--password-stdin'], password)
  const client = await logIn(hub.url, name, password)
  const { token } = await ownToken(client, name)
  return { name, password, client, token, auth: authOf(token) }
}

/**
 * An account made by an admin: with a password on the admin page's add-user form (as a person adds
 * one), without through POST /hub/api/users/NAME.
 */
export async function addUser(
  admin: Admin,
  name: string,
  opts: { admin?: boolean; password?: string } = {},
): Promise<void> {
  if (opts.password !== undefined) {
    const res = await admin.client.postForm('/hub/admin/users', {
      username: name,
      password: opts.password,
      ...(opts.admin ? { admin: '1' } : {}),
    })
    const location = res.headers.get('location') ?? ''
    if (res.status !== 302 || !location.includes(encodeURIComponent(`${name} was added`)))
      throw new Error(`the admin page adding ${name}: ${res.status} ${await res.text()}`)
    return
  }
  const res = await fetch(`${admin.client.base}/hub/api/users/${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: { ...admin.auth, 'content-type': 'application/json' },
    body: opts.admin ? JSON.stringify({ admin: true }) : undefined,
  })
  await expectStatus(`POST /users/${name}`, res, [201])
  await res.body?.cancel()
}

/**
 * A user with a password, added by `admin` on the admin page, logged in through the form, holding a
 * full token of their own from that session: what a person who was given an account has.
 */
export async function person(
  admin: Admin,
  name: string,
  opts: { admin?: boolean; password?: string } = {},
): Promise<Admin> {
  const password = opts.password ?? `${name}-password`
  await addUser(admin, name, { admin: opts.admin, password })
  const client = await logIn(admin.client.base, name, password)
  const { token } = await ownToken(client, name)
  return { name, password, client, token, auth: authOf(token) }
}

/**
 * A token for a user who has no password (made through the API, or by an authenticator), as an
 * operator issues one: `edgehub token issue NAME [--scopes ...]` (an admin can also issue one through
 * the API, POST /hub/api/users/NAME/tokens, as in JupyterHub). About 0.7 s: prefer `person` where a
 * password does not matter.
 */
export function issuedToken(hub: Hub, name: string, scopes?: string[]): string {
  return cli(hub, ['token', 'issue', name, ...(scopes ? ['--scopes', scopes.join(',')] : [])])
}

const serverPath = (name: string, server: string) =>
  server
    ? `/users/${encodeURIComponent(name)}/servers/${encodeURIComponent(server)}`
    : `/users/${encodeURIComponent(name)}/server`

/**
 * Starts NAME's server (default, or `server`) through the API with `token`, and waits until the
 * server is ready and the proxy routes to it: a request to its URL is no longer sent to the hub.
 * `url` defaults to the hub's public URL; `probe` is the path checked through the proxy.
 */
export async function startServer(
  url: string,
  token: string,
  name: string,
  opts: { server?: string; options?: Record<string, unknown>; probe?: string; timeoutMs?: number } = {},
): Promise<void> {
  const server = opts.server ?? ''
  const res = await fetch(`${url}/hub/api${serverPath(name, server)}`, {
    method: 'POST',
    headers: { ...authOf(token), ...(opts.options ? { 'content-type': 'application/json' } : {}) },
    body: opts.options ? JSON.stringify(opts.options) : undefined,
  })
  await expectStatus(`POST ${serverPath(name, server)}`, res, [201, 202])
  await res.body?.cancel()
  await serverRouted(url, token, name, opts)
}

/** Waits until NAME's server is ready and the proxy at `url` sends its URL (or `probe`) to it. */
export async function serverRouted(
  url: string,
  token: string,
  name: string,
  opts: { server?: string; probe?: string; timeoutMs?: number } = {},
): Promise<void> {
  const server = opts.server ?? ''
  const base = `/user/${name}/${server ? `${server}/` : ''}`
  const timeoutMs = opts.timeoutMs ?? 30_000
  await waitFor(
    `${name}'s server ${server || '(default)'} to be ready`,
    async () => {
      const m = await json(await fetch(`${url}/hub/api/users/${encodeURIComponent(name)}`, { headers: authOf(token) }))
      return m.servers?.[server]?.ready === true
    },
    { timeoutMs, intervalMs: 100 },
  )
  await waitFor(
    `the proxy to route ${base}`,
    async () => {
      const r = await fetch(`${url}${opts.probe ?? base}`, { headers: authOf(token), redirect: 'manual' })
      await r.body?.cancel()
      const location = r.headers.get('location') ?? ''
      return r.status < 500 && !(r.status >= 300 && r.status < 400 && location.startsWith('/hub/'))
    },
    { timeoutMs, intervalMs: 50 },
  )
}

/** Stops NAME's server through the API (DELETE answers once it is stopped). */
export async function stopServer(url: string, token: string, name: string, server = ''): Promise<void> {
  const res = await fetch(`${url}/hub/api${serverPath(name, server)}`, { method: 'DELETE', headers: authOf(token) })
  await expectStatus(`DELETE ${serverPath(name, server)}`, res, [204])
}
