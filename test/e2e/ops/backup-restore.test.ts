// `edgehub backup` and `edgehub restore` between two real stacks: users, groups, tokens and login
// sessions come back, the proxies resync, and a restore refuses a newer format and a Redis in use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { BIN, startStack, type Stack } from '../../support/stack'
import { cli, person, rootOf, type Admin } from '../../support/people'
import { json } from '../../support/client'
import { waitFor } from '../../../runtime/src/wait'

let a: Stack
let b: Stack
let root: Admin
let ada: Admin
const dir = mkdtempSync(join(tmpdir(), 'edgehub-backup-'))
const file = join(dir, 'stack.backup')
let backupOut = ''

/** Runs the CLI against a stack; exit code and both outputs (cli() of people.ts throws on failure). */
function edgehub(stack: Stack, args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))
  const r = spawnSync(process.execPath, [BIN, ...args, '--config', stack.configFile], { encoding: 'utf8', env })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

const proxyVersion = async (stack: Stack) =>
  (await json(await fetch(`${stack.url}/_edgehub/proxy/health`))).version as number

beforeAll(async () => {
  a = await startStack()
  b = await startStack()
  root = await rootOf(a)
  ada = await person(root, 'ada')
  const res = await fetch(`${a.url}/hub/api/groups/team`, {
    method: 'POST',
    headers: { ...root.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ users: ['ada'] }),
  })
  expect(res.status).toBe(201)
  backupOut = cli(a, ['backup', file])
}, 180_000)
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  rmSync(dir, { recursive: true, force: true })
}, 60_000)

describe('edgehub backup', () => {
  it('writes one file, readable by its owner only, with its format and versions, and prints no secret', () => {
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const doc = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'))
    expect(doc).toMatchObject({ kind: 'edgehub-backup', format: 1, edgehubVersion: '0.1.0', schemaVersion: 1 })
    const keys = doc.keys.map((k: { key: string }) => k.key)
    expect(keys).toEqual(expect.arrayContaining(['user:ada', 'group:team', 'proxy:tokens', 'proxy:keys', 'hub-id']))
    // leases and the change stream are not state
    expect(keys.filter((k: string) => k === 'leader' || k.startsWith('lock:') || k === 'proxy:changes')).toEqual([])
    expect(doc.config.text).toBe(readFileSync(a.configFile, 'utf8'))
    expect(backupOut).toMatch(/backed up \d+ Redis keys/)
    expect(backupOut).not.toContain(ada.token)
    expect(backupOut).not.toContain(root.password)
  })
})

describe('edgehub restore', () => {
  it('refuses a Redis a hub is running on, and one that holds data unless forced', async () => {
    const running = edgehub(b, ['restore', file, '--force'])
    expect(running.code).not.toBe(0)
    expect(running.err).toContain('a hub is running on this Redis (it holds the leader lease): stop every hub replica')
    await b.killHub('SIGTERM') // gives the lease up
    try {
      const r = edgehub(b, ['restore', file])
      expect(r.code).not.toBe(0)
      expect(r.err).toMatch(/Redis holds \d+ keys under "edgehub:" \(redis\.prefix\).*--force/)
    } finally {
      await b.startHub()
    }
  })

  it('refuses a backup of a newer format, naming both formats', () => {
    const doc = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'))
    const newer = join(dir, 'newer.backup')
    writeFileSync(newer, gzipSync(JSON.stringify({ ...doc, format: 2, edgehubVersion: '9.0.0' })), { mode: 0o600 })
    const r = edgehub(b, ['restore', newer, '--force'])
    expect(r.code).not.toBe(0)
    expect(r.err.trim().split('\n')).toHaveLength(1)
    expect(r.err).toMatch(/backup format 2 by edgehub 9\.0\.0; this edgehub reads format 1/)
  })

  it('puts users, groups, tokens and sessions back, and the running proxy resyncs', async () => {
    const before = await proxyVersion(b)
    await b.killHub('SIGTERM')
    const out = cli(b, ['restore', file, '--force'])
    expect(out).toMatch(/restored \d+ Redis keys .*replacing \d+; proxies resync at version (\d+)/)
    expect(out).not.toContain(ada.token)
    const restored = Number(/resync at version (\d+)/.exec(out)![1])
    expect(restored).toBeGreaterThan(before)
    // the proxy, which never stopped, follows the restored tables without a restart
    await waitFor('the proxy to resync', async () => (await proxyVersion(b)) === restored, { timeoutMs: 15_000 })
    await b.startHub()
    const me = await json(await fetch(`${b.url}/hub/api/user`, { headers: ada.auth }))
    expect(me).toMatchObject({ name: 'ada', admin: false, groups: ['team'] })
    const users = await json(await fetch(`${b.url}/hub/api/users`, { headers: root.auth }))
    expect(users.map((u: { name: string }) => u.name).sort()).toEqual(['ada', 'root'])
    // ada's login session from stack a: signed with a's cookie key, which came along
    const home = await fetch(`${b.url}/hub/home`, {
      headers: { cookie: ada.client.cookieHeader() },
      redirect: 'manual',
    })
    expect(home.status).toBe(200)
  })
})
