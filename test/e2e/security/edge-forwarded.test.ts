// X-Forwarded-For and X-Forwarded-Proto are believed only from the front proxies in
// proxy.trustedProxies: real nginx and Redis, recording upstreams for a server and for the hub.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renderNginxConf } from '../../../proxy/src/render'
import { waitFor } from '../../../runtime/src/wait'
import { http, startFakeServer, startStack, userRoute, type FakeServer, type Stack } from '../../proxy/harness'
import { BIN, cleanEnv } from '../../support/harness'

let direct: Stack // nothing trusted (the default)
let fronted: Stack // loopback is a trusted front proxy
let alice: FakeServer

async function ready(stack: Stack) {
  await stack.tables.apply([
    { table: 'routes', key: '/user/alice/', value: userRoute('alice', alice.target, 'alice-secret') },
  ])
  const v = await stack.tables.version()
  await waitFor(
    'proxy synced',
    async () => (await http(`${stack.proxy.url}/_edgehub/proxy/health`)).json().version === v,
  )
}

beforeAll(async () => {
  alice = await startFakeServer('alice')
  ;[direct, fronted] = await Promise.all([
    startStack(),
    startStack({ proxy: { trustedProxies: ['127.0.0.0/8', '::1'] } }),
  ])
  await Promise.all([ready(direct), ready(fronted)])
})
afterAll(async () => {
  await Promise.all([direct?.stop(), fronted?.stop()])
  await alice?.close()
})

const forged = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' }
const asAlice = (stack: Stack, headers: Record<string, string> = {}) =>
  http(`${stack.proxy.url}/user/alice/x`, {
    headers: { cookie: `edgehub-session=${stack.cookie('alice')}`, ...headers },
  })
const atHub = (stack: Stack, headers: Record<string, string> = {}) => http(`${stack.proxy.url}/hub/x`, { headers })

describe('a peer that is not a trusted front proxy', () => {
  it('cannot choose the address or scheme a server or the hub is told', async () => {
    for (const r of [await asAlice(direct, forged), await atHub(direct, forged)]) {
      const h = r.json().headers
      expect(h['x-forwarded-for']).toBe('127.0.0.1')
      expect(h['x-real-ip']).toBe('127.0.0.1')
      expect(h['x-forwarded-proto']).toBe('http')
    }
  })

  it('cannot pass the origin check with an https Origin by claiming https', async () => {
    const host = new URL(direct.proxy.url).host
    const r = await http(`${direct.proxy.url}/user/alice/api/x`, {
      method: 'POST',
      headers: {
        cookie: `edgehub-session=${direct.cookie('alice')}`,
        origin: `https://${host}`,
        'x-forwarded-proto': 'https',
      },
    })
    expect(r.status).toBe(403)
  })

  it('is logged by its own address', async () => {
    await atHub(direct, { 'x-forwarded-for': '198.51.100.9', 'x-request-id': 'forwarded-direct' })
    const log = await waitFor(
      'the access log line',
      () => {
        const line = accessLines(direct).find((l) => l.request_id === 'forwarded-direct')
        return line ?? false
      },
      { timeoutMs: 5000 },
    )
    expect(log.remote_addr).toBe('127.0.0.1')
  })
})

describe('a trusted front proxy', () => {
  it("names the client's address (appended to, as a chain) and the scheme", async () => {
    for (const r of [await asAlice(fronted, forged), await atHub(fronted, forged)]) {
      const h = r.json().headers
      expect(h['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1')
      expect(h['x-real-ip']).toBe('203.0.113.7')
      expect(h['x-forwarded-proto']).toBe('https')
    }
    const plain = (await atHub(fronted)).json().headers
    expect([plain['x-forwarded-for'], plain['x-forwarded-proto']]).toEqual(['127.0.0.1', 'http'])
    expect((await atHub(fronted, { 'x-forwarded-proto': 'gopher' })).json().headers['x-forwarded-proto']).toBe('http')
  })

  it('has the scheme it names count for the origin check', async () => {
    const host = new URL(fronted.proxy.url).host
    const r = await http(`${fronted.proxy.url}/user/alice/api/x`, {
      method: 'POST',
      headers: {
        cookie: `edgehub-session=${fronted.cookie('alice')}`,
        origin: `https://${host}`,
        'x-forwarded-proto': 'https',
      },
    })
    expect(r.status).toBe(200)
  })

  it("has the client's address logged", async () => {
    await atHub(fronted, { 'x-forwarded-for': '198.51.100.9', 'x-request-id': 'forwarded-fronted' })
    const log = await waitFor(
      'the access log line',
      () => accessLines(fronted).find((l) => l.request_id === 'forwarded-fronted') ?? false,
      { timeoutMs: 5000 },
    )
    expect(log.remote_addr).toBe('198.51.100.9')
  })
})

/** `edgehub config check` as an operator runs it in cwd: the config it prints (JSON, after its first line), or what it says on stderr. */
function configCheck(args: string[], cwd: string): { config?: any; err: string } {
  const r = spawnSync(process.execPath, [BIN, 'config', 'check', ...args], { cwd, encoding: 'utf8', env: cleanEnv() })
  const out = r.stdout ?? ''
  return { config: r.status === 0 ? JSON.parse(out.slice(out.indexOf('\n') + 1)) : undefined, err: r.stderr }
}

describe('proxy.trustedProxies', () => {
  it('takes addresses and CIDR blocks, and names a bad entry in one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgehub-trusted-'))
    try {
      const file = join(dir, 'edgehub.yaml')
      writeFileSync(file, 'proxy:\n  trustedProxies: ["10.0.0.0/8", "192.0.2.1", "fd00::/8"]\n')
      expect(configCheck(['--config', file], dir).config.proxy.trustedProxies).toEqual([
        '10.0.0.0/8',
        '192.0.2.1',
        'fd00::/8',
      ])
      mkdirSync(join(dir, 'none'))
      expect(configCheck([], join(dir, 'none')).config.proxy.trustedProxies).toEqual([])
      writeFileSync(file, 'proxy:\n  trustedProxies: ["10.0.0.0/33", "lb.example.org"]\n')
      const msg = configCheck(['--config', file], dir).err
      expect(msg).toMatch(/^ {2}proxy\.trustedProxies\.0: expected a prefix length 0-32/m)
      expect(msg).toMatch(/^ {2}proxy\.trustedProxies\.1: expected an IP address or CIDR block/m)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)

  it('is refused by the renderer when it could break out of its directive', () => {
    const base = {
      listen: { host: '127.0.0.1', port: 8000 },
      hubUpstreams: ['127.0.0.1:8081'],
      redis: { host: '127.0.0.1', port: 6379 },
      prefix: 'edgehub:',
      runDir: '/tmp/x',
    }
    expect(() => renderNginxConf({ ...base, trustedProxies: ['127.0.0.1; include /etc/passwd'] })).toThrow(
      /trustedProxies\[0\]/,
    )
    const conf = renderNginxConf({ ...base, trustedProxies: ['10.0.0.0/8'] })
    expect(conf).toContain('set_real_ip_from 10.0.0.0/8;')
    expect(renderNginxConf(base)).not.toContain('set_real_ip_from')
  })
})

function accessLines(stack: Stack): { request_id: string; remote_addr: string }[] {
  return readFileSync(join(stack.dir, 'nginx', 'logs', 'access.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
}
