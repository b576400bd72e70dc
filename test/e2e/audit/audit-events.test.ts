// The audit log (docs/audit.md): each audited action driven as a user drives it (the login form, the
// REST API, the admin and token pages), then its event read back from audit.file with its fields; the
// request id of a request through the proxy in the proxy's access log, the hub's and the event; and
// none of the passwords and tokens the run used anywhere in the audit output.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { logIn, ownToken, person, rootOf, startServer, stopServer, type Admin } from '../../support/people'
import { Client, json } from '../../support/client'
import { okServerSpawner } from '../../support/servers'
import { removeAccounts, testPrefix } from '../../support/accounts'

const prefix = testPrefix()
const auditDir = mkdtempSync(join(tmpdir(), 'edgehub-audit-'))
const auditFile = join(auditDir, 'audit.log')
const secrets = new Set<string>()
let stack: Stack
let root: Admin

type Ev = Record<string, any>
const events = (): Ev[] =>
  readFileSync(auditFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
/** The last event of `action` matching `where`; fails naming what the log holds. */
function lastEvent(action: string, where: (e: Ev) => boolean = () => true): Ev {
  const all = events()
  const found = all.filter((e) => e.action === action && where(e)).pop()
  if (!found) throw new Error(`no ${action} event in ${JSON.stringify(all.map((e) => [e.action, e.target]))}`)
  return found
}
const byUser = (name: string) => ({ kind: 'user', name, via: expect.any(String) })
const api = (path: string, token: string, init: { method: string; body?: unknown; headers?: Record<string, string> }) =>
  fetch(`${stack.url}/hub/api${path}`, {
    method: init.method,
    headers: { authorization: `token ${token}`, 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  })
const remember = (p: Admin) => {
  secrets.add(p.password)
  secrets.add(p.token)
  return p
}

beforeAll(async () => {
  stack = await startStack({
    logLevel: 'info',
    audit: { file: auditFile },
    spawner: { ...okServerSpawner(), 'local-process': { ...okServerSpawner()['local-process'], userPrefix: prefix } },
  })
  root = remember(await rootOf(stack))
}, 120_000)
afterAll(async () => {
  await stack?.stop()
  rmSync(auditDir, { recursive: true, force: true })
  expect(removeAccounts(prefix)).toEqual([])
}, 60_000)

describe('audit events', () => {
  it('login, login failure (its reason, never the password) and logout', async () => {
    const ann = remember(await person(root, 'ann'))
    const login = lastEvent('login', (e) => e.target === 'ann')
    expect(login).toMatchObject({ outcome: 'success', actor: byUser('ann'), client_address: '127.0.0.1' })
    expect(login.request_id).toMatch(/^[\w.:-]+$/)
    expect(Date.parse(login.time)).toBeGreaterThan(Date.now() - 60_000)

    const wrong = 'not-anns-password-7731'
    secrets.add(wrong)
    const res = await new Client(stack.url).login('ann', wrong)
    expect(res.status).toBe(403)
    expect(lastEvent('login.failure', (e) => e.target === 'ann')).toMatchObject({
      outcome: 'denied',
      reason: 'bad-credentials',
      actor: null,
      status: 403,
    })
    expect(readFileSync(auditFile, 'utf8')).not.toContain(wrong)

    const out = await ann.client.get('/hub/logout')
    expect(out.status).toBe(302)
    expect(lastEvent('logout', (e) => e.target === 'ann')).toMatchObject({ outcome: 'success', actor: byUser('ann') })
  })

  it('token create and revoke, through the API and the token page', async () => {
    const bo = remember(await person(root, 'bo'))
    const made = await ownToken(bo.client, 'bo', { note: 'audit' })
    secrets.add(made.token)
    expect(lastEvent('token.create', (e) => e.token_id === made.id)).toMatchObject({
      outcome: 'success',
      actor: byUser('bo'),
      target: 'bo',
    })
    const del = await api(`/users/bo/tokens/${made.id}`, bo.token, { method: 'DELETE' })
    expect(del.status).toBe(204)
    expect(lastEvent('token.revoke', (e) => e.target === `bo/${made.id}`)).toMatchObject({
      outcome: 'success',
      actor: { kind: 'user', name: 'bo', via: 'token' },
    })
    // the token page's form
    const page = await bo.client.postForm('/hub/token', { note: 'from the page' })
    expect(page.status).toBeLessThan(400)
    expect(lastEvent('token.create', (e) => e.request_id === page.headers.get('x-request-id'))).toMatchObject({
      outcome: 'success',
      actor: { kind: 'user', name: 'bo', via: 'cookie' },
    })
    // the token page's revoke button
    const other1 = await ownToken(bo.client, 'bo')
    secrets.add(other1.token)
    const gone = await bo.client.postForm(`/hub/token/${other1.id}/revoke`, {})
    expect(gone.status).toBe(303)
    expect(lastEvent('token.revoke', (e) => e.target === other1.id)).toMatchObject({
      outcome: 'success',
      actor: { kind: 'user', name: 'bo', via: 'cookie' },
    })
    // refused: another user's token
    const other = await api(`/users/root/tokens`, bo.token, { method: 'POST', body: {} })
    expect(other.status).toBe(404) // as JupyterHub: another user's tokens are not found
    expect(lastEvent('token.create', (e) => e.target === 'root' && e.outcome === 'failure')).toMatchObject({
      actor: byUser('bo'),
      status: 404,
    })
  })

  it('user add, admin flag, rename and delete by an admin, through the API and the admin page', async () => {
    expect((await api('/users/cy', root.token, { method: 'POST' })).status).toBe(201)
    expect(lastEvent('user.create', (e) => e.target === 'cy')).toMatchObject({
      actor: byUser('root'),
      outcome: 'success',
    })
    expect((await api('/users/cy', root.token, { method: 'PATCH', body: { admin: true } })).status).toBe(200)
    expect(lastEvent('user.modify', (e) => e.target === 'cy')).toMatchObject({ admin: true, changes: ['admin'] })
    expect((await api('/users/cy', root.token, { method: 'PATCH', body: { name: 'cy2' } })).status).toBe(200)
    expect(lastEvent('user.modify', (e) => e.new_name === 'cy2')).toMatchObject({ target: 'cy', outcome: 'success' })
    expect((await api('/users/cy2', root.token, { method: 'DELETE' })).status).toBe(204)
    expect(lastEvent('user.delete', (e) => e.target === 'cy2')).toMatchObject({ actor: byUser('root') })
    // the admin page's form: the same event, with the page request's address and id
    const deePassword = 'dee-first-password-5521'
    secrets.add(deePassword)
    const res = await root.client.postForm('/hub/admin/users', { username: 'dee', password: deePassword })
    expect(res.status).toBe(302)
    expect(lastEvent('user.create', (e) => e.users?.includes('dee') || e.target === 'dee')).toMatchObject({
      actor: { kind: 'user', name: 'root', via: 'cookie' },
      client_address: '127.0.0.1',
      request_id: res.headers.get('x-request-id'),
    })
    // refused to a non-admin
    const eve = remember(await person(root, 'eve'))
    expect((await api('/users/dee', eve.token, { method: 'DELETE' })).status).toBe(403)
    expect(lastEvent('user.delete', (e) => e.target === 'dee')).toMatchObject({
      outcome: 'denied',
      actor: byUser('eve'),
    })
  })

  it('group create, members added and removed, group deleted', async () => {
    await api('/users/fay', root.token, { method: 'POST' })
    expect((await api('/groups/staff', root.token, { method: 'POST' })).status).toBe(201)
    expect(lastEvent('group.create', (e) => e.target === 'staff')).toMatchObject({ actor: byUser('root') })
    expect((await api('/groups/staff/users', root.token, { method: 'POST', body: { users: ['fay'] } })).status).toBe(
      200,
    )
    expect(lastEvent('group.members.add', (e) => e.target === 'staff')).toMatchObject({ users: ['fay'] })
    expect((await api('/groups/staff/users', root.token, { method: 'DELETE', body: { users: ['fay'] } })).status).toBe(
      200,
    )
    expect(lastEvent('group.members.remove', (e) => e.target === 'staff')).toMatchObject({ users: ['fay'] })
    expect((await api('/groups/staff', root.token, { method: 'DELETE' })).status).toBe(204)
    expect(lastEvent('group.delete', (e) => e.target === 'staff')).toMatchObject({ outcome: 'success' })
  })

  it('a spawn and a stop: by the user, and by an admin for another user (who asked)', async () => {
    const gus = remember(await person(root, 'gus'))
    await startServer(stack.url, gus.token, 'gus')
    expect(lastEvent('server.start', (e) => e.target === 'gus/')).toMatchObject({ actor: byUser('gus') })
    await stopServer(stack.url, root.token, 'gus')
    expect(lastEvent('server.stop', (e) => e.target === 'gus/')).toMatchObject({
      actor: byUser('root'),
      outcome: 'success',
    })
    await startServer(stack.url, root.token, 'gus')
    expect(lastEvent('server.start', (e) => e.target === 'gus/')).toMatchObject({ actor: byUser('root') })
    await api('/users/hal', root.token, { method: 'POST' })
    const shared = await api('/shares/gus/', root.token, { method: 'POST', body: { user: 'hal' } })
    expect(shared.status, await shared.clone().text()).toBe(200)
    expect(lastEvent('share.create', (e) => e.target === 'gus/')).toMatchObject({ user: 'hal', actor: byUser('root') })
    const revoked = await api('/shares/gus/', root.token, { method: 'PATCH', body: { user: 'hal' } })
    expect(revoked.status).toBeLessThan(300)
    expect(lastEvent('share.revoke', (e) => e.target === 'gus/')).toMatchObject({ user: 'hal', outcome: 'success' })
    // the home page's stop button: the user's own default server
    const stopped = await gus.client.postForm('/hub/stop', {})
    expect(stopped.status).toBe(302)
    expect(lastEvent('server.stop', (e) => e.request_id === stopped.headers.get('x-request-id'))).toMatchObject({
      target: 'gus/',
      actor: { kind: 'user', name: 'gus', via: 'cookie' },
      outcome: 'success',
    })
  })
})

describe('request ids', () => {
  it("a request through the proxy has one id in the proxy's access log, the hub's and the audit event", async () => {
    const rid = `audit-${Date.now()}`
    const res = await api('/users/root/tokens', root.token, {
      method: 'POST',
      body: {},
      headers: { 'x-request-id': rid },
    })
    expect(res.status).toBe(201)
    secrets.add((await json(res)).token)
    expect(res.headers.get('x-request-id')).toBe(rid)
    expect(lastEvent('token.create', (e) => e.request_id === rid)).toMatchObject({ actor: byUser('root') })
    const hubLines = readFileSync(join(stack.dir, 'hub.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes(rid))
    expect(hubLines.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({
        component: 'hub.access',
        method: 'POST',
        path: '/hub/api/users/root/tokens',
        status: 201,
        user: 'root',
        request_id: rid,
      }),
    )
    const proxyLog = readFileSync(join(stack.dir, 'proxy/logs/access.log'), 'utf8')
    expect(proxyLog.split('\n').some((l) => l.includes(`"request_id":"${rid}"`))).toBe(true)
  })

  it('the access log drops the query string (a ?token= in it)', async () => {
    const t = await ownToken(root.client, 'root')
    secrets.add(t.token)
    const rid = `audit-q-${Date.now()}`
    const res = await fetch(`${stack.url}/hub/api/user?token=${t.token}`, { headers: { 'x-request-id': rid } })
    expect(res.status).toBe(200)
    const hub = readFileSync(join(stack.dir, 'hub.log'), 'utf8')
    const line = hub.split('\n').find((l) => l.includes(rid))
    expect(JSON.parse(line!)).toMatchObject({ path: '/hub/api/user', user: 'root' })
    expect(hub).not.toContain(t.token)
  })
})

describe('secrets', () => {
  it('no password or token used in this run appears in the audit output', async () => {
    // one more login, failure and token, so this test holds on its own
    const wrong = 'wrong-horse-battery-9'
    secrets.add(wrong)
    await new Client(stack.url).login('root', wrong)
    const c = await logIn(stack.url, 'root', root.password)
    secrets.add((await ownToken(c, 'root')).token)
    expect(secrets.size).toBeGreaterThan(3)
    const text = readFileSync(auditFile, 'utf8')
    expect(events().length).toBeGreaterThan(3)
    for (const s of secrets) expect(text, 'a secret in the audit log').not.toContain(s)
    // nor any session cookie value
    for (const v of c.jar.values()) if (v.length >= 16) expect(text).not.toContain(v)
  })
})
