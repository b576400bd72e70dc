// What an operator meets on the first day: users named in the configuration exist from the start,
// a wrong Redis address is one line, a Redis outage is a prompt 503, and each answer has one
// X-Request-Id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, spawnSync } from 'node:child_process'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { BIN, startStack, type Stack } from '../../support/stack'
import { Client, json } from '../../support/client'
import { startRedisServer, type RedisServer } from '../../support/harness'
import { startChild, type Child } from '../../../runtime/src/child'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'

const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))

function edgehub(args: string[], opts: { input?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input: opts.input,
    encoding: 'utf8',
    env: { ...cleanEnv(), ...opts.env },
    timeout: 30_000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/** Every X-Request-Id header of one answer, as sent (fetch would join duplicates). */
function requestIds(url: string, headers: Record<string, string> = {}): Promise<{ status: number; ids: string[] }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      res.resume()
      const ids: string[] = []
      for (let i = 0; i < res.rawHeaders.length; i += 2)
        if (res.rawHeaders[i].toLowerCase() === 'x-request-id') ids.push(res.rawHeaders[i + 1])
      resolve({ status: res.statusCode!, ids })
    })
      .on('error', reject)
      .end()
  })
}

describe('a stack whose configuration names users', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ auth: { admins: ['Alice'], allowed: ['bob', 'keeper'], native: { scryptCost: 1024 } } })
  })
  afterAll(() => stack?.stop())
  const cli = (args: string[], input?: string) => edgehub([...args, '--config', stack.configFile], { input })

  it('has them from the start: an admin token can be issued before any login', async () => {
    const token = cli(['token', 'issue', 'alice'])
    expect(token.err).toBe('')
    expect(token.code).toBe(0)
    const me = await fetch(`${stack.url}/hub/api/user`, { headers: { authorization: `token ${token.out.trim()}` } })
    expect(me.status).toBe(200)
    expect(await me.json()).toMatchObject({ name: 'alice', admin: true })
    const bob = await fetch(`${stack.url}/hub/api/users/bob`, {
      headers: { authorization: `token ${token.out.trim()}` },
    })
    expect(await bob.json()).toMatchObject({ name: 'bob', admin: false })
  })

  it('lets nobody log in as them until a password is set, then logs in with it', async () => {
    const client = new Client(stack.url)
    expect((await client.login('alice', '')).status).toBe(403)
    expect((await client.login('alice', 'anything-at-all')).status).toBe(403)
    const set = cli(['user', 'add', 'alice', '--password-stdin'], 'correct horse battery\n')
    expect(set.code).toBe(0)
    expect(set.out).toContain('set the password of alice (admin)')
    const res = await client.login('alice', 'correct horse battery')
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/hub/')
    expect((await json(await client.api('GET', '/user'))).admin).toBe(true)
    // a second `user add` of a user with a password is refused, as before
    const again = cli(['user', 'add', 'alice', '--password-stdin'], 'another password\n')
    expect(again.code).not.toBe(0)
    expect(again.err).toContain('already exists')
  })

  it("lets an admin give such a user a password with the admin page's add-user form, once", async () => {
    expect(cli(['user', 'add', 'keeper', '--admin', '--password-stdin'], 'keeper-password\n').code).toBe(0)
    const admin = new Client(stack.url)
    expect((await admin.login('keeper', 'keeper-password')).status).toBe(302)
    const set = await admin.postForm('/hub/admin/users', { username: 'bob', password: 'bob-password' })
    expect(set.status).toBe(302)
    expect(decodeURIComponent(set.headers.get('location')!)).toContain('bob can now log in with that password')
    const bob = new Client(stack.url)
    expect((await bob.login('bob', 'bob-password')).status).toBe(302)
    expect((await json(await bob.api('GET', '/user'))).name).toBe('bob')
    // a second time it is an existing account: refused, the password stays
    expect((await admin.postForm('/hub/admin/users', { username: 'bob', password: 'another-password' })).status).toBe(
      409,
    )
    expect((await new Client(stack.url).login('bob', 'another-password')).status).toBe(403)
  })

  it('answers /hub/, /hub/login and the API with exactly one X-Request-Id, through the proxy', async () => {
    for (const path of ['/hub/', '/hub', '/hub/login', '/hub/api/', '/hub/api/user', '/hub/nothing-here']) {
      const r = await requestIds(stack.url + path)
      expect(r.ids, path).toHaveLength(1)
      expect(r.ids[0], path).toMatch(/^[0-9a-f]{32}$/)
    }
    const kept = await requestIds(`${stack.url}/hub/api/`, { 'x-request-id': 'lb:1234.abc' })
    expect(kept.ids).toEqual(['lb:1234.abc'])
  })
})

describe('the hub while Redis is unreachable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgehub-outage-'))
  let redis: RedisServer
  let hub: Child
  let hubUrl: string
  let redisPort: number
  let token: string
  beforeAll(async () => {
    const [hubPort, proxyPort] = await Promise.all([freePort(), freePort()])
    redisPort = await freePort()
    redis = await startRedisServer({ dir: join(dir, 'redis'), port: redisPort })
    const configFile = join(dir, 'edgehub.yaml')
    writeFileSync(
      configFile,
      stringify({
        dataDir: dir,
        port: proxyPort,
        logLevel: 'warn',
        hub: { port: hubPort },
        redis: { url: `redis://127.0.0.1:${redisPort}` },
        auth: { admins: ['root'] },
      }),
    )
    hubUrl = `http://127.0.0.1:${hubPort}`
    hub = startChild({
      name: 'hub',
      command: process.execPath,
      args: [BIN, 'hub', '--config', configFile],
      env: cleanEnv(),
      logFile: join(dir, 'hub.log'),
    })
    await waitFor('hub health', async () => (await fetch(`${hubUrl}/hub/health`).catch(() => null))?.ok, {
      timeoutMs: 20_000,
    })
    token = edgehub(['token', 'issue', 'root', '--config', configFile]).out.trim()
  })
  afterAll(async () => {
    await hub?.stop()
    await redis?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers 503 too when Redis stalls without closing its connections (stopped), and serves again when it goes on', async () => {
    const api = () =>
      fetch(`${hubUrl}/hub/api/user`, {
        headers: { authorization: `token ${token}` },
        signal: AbortSignal.timeout(10_000),
      })
    expect((await api()).status).toBe(200)
    const pid = redis.child.proc.pid!
    process.kill(pid, 'SIGSTOP')
    try {
      const t0 = performance.now()
      const res = await api()
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/)
      expect(performance.now() - t0).toBeLessThan(2600) // a PING unanswered for redis.waitSec (1 s), found within 1.5 s
      const next = performance.now()
      expect((await api()).status).toBe(503) // known stalled: refused after the wait at the door
      expect(performance.now() - next).toBeLessThan(1500)
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    const back = performance.now()
    await waitFor('the hub API to answer again', async () => (await api()).status === 200, {
      timeoutMs: 3000,
      intervalMs: 50,
    })
    expect(performance.now() - back).toBeLessThan(3000)
  })

  it('answers 503 with Retry-After within about a second, and serves again as soon as Redis is back', async () => {
    const api = () =>
      fetch(`${hubUrl}/hub/api/user`, {
        headers: { authorization: `token ${token}` },
        signal: AbortSignal.timeout(10_000),
      })
    expect((await api()).status).toBe(200)
    redis.child.proc.kill('SIGKILL')
    await redis.child.exited

    for (let i = 0; i < 3; i++) {
      const t0 = performance.now()
      const res = await api()
      const ms = performance.now() - t0
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/)
      expect(await res.json()).toMatchObject({ status: 503, message: expect.stringContaining('Redis') })
      expect(ms).toBeLessThan(1500) // redis.waitSec is 1 s
    }
    const page = await fetch(`${hubUrl}/hub/login`, { signal: AbortSignal.timeout(10_000) })
    expect(page.status).toBe(503)
    expect(page.headers.get('content-type')).toContain('text/html')

    redis = await startRedisServer({ dir: join(dir, 'redis'), port: redisPort })
    const back = performance.now()
    await waitFor('the hub API to answer again', async () => (await api()).status === 200, {
      timeoutMs: 3000,
      intervalMs: 50,
    })
    expect(performance.now() - back).toBeLessThan(3000)
    // the token issued before the outage is still valid: Redis kept it (AOF)
    expect(await (await api()).json()).toMatchObject({ name: 'root' })
  })
})

describe('edgehub hub with a wrong redis.url', () => {
  const run = async (url: string) => {
    const r = edgehub(['hub'], {
      env: {
        EDGEHUB_REDIS_URL: url,
        EDGEHUB_HUB_PORT: String(await freePort()),
        EDGEHUB_DATA_DIR: mkdtempSync(join(tmpdir(), 'edgehub-badurl-')),
      },
    })
    return { ...r, lines: r.err.trim().split('\n') }
  }

  it('prints one line naming the address and the setting when nothing listens there', async () => {
    const port = await freePort()
    const r = await run(`redis://:secret-pass@127.0.0.1:${port}`)
    expect(r.code).not.toBe(0)
    expect(r.lines).toEqual([
      expect.stringMatching(
        new RegExp(`^edgehub: cannot reach Redis at 127\\.0\\.0\\.1:${port} \\(redis\\.url\\): .*ECONNREFUSED`),
      ),
    ])
    expect(r.err).not.toContain('secret-pass')
  })

  it('says so when the address answers but is not Redis', async () => {
    const server = createServer((s) =>
      s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')).on('error', () => {}),
    )
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as { port: number }).port
    const hubPort = await freePort()
    try {
      const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
        // async: the fake server answers on this process's event loop
        const p = spawn(process.execPath, [BIN, 'hub'], {
          env: { ...cleanEnv(), EDGEHUB_REDIS_URL: `redis://127.0.0.1:${port}`, EDGEHUB_HUB_PORT: String(hubPort) },
        })
        let err = ''
        p.stderr.on('data', (d) => (err += d))
        p.on('exit', (code) => resolve({ code, err }))
      })
      expect(r.code).not.toBe(0)
      expect(r.err.trim().split('\n')).toEqual([
        `edgehub: cannot reach Redis at 127.0.0.1:${port} (redis.url): it answered, but not as a Redis server does`,
      ])
    } finally {
      server.close()
    }
  })
})
