import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { loadConfig } from '../config/load'
import { publicUrl } from '../deps'
import { sharedOriginNotice } from '../pages/shared-origin'
import { serverUrl, subdomainLabel, userOfPath, userOrigin } from './subdomain'
import { renderNginxConf } from '../../../proxy/src/render'

const cwd = mkdtempSync(join(tmpdir(), 'edgehub-subdomain-'))
afterAll(() => rmSync(cwd, { recursive: true, force: true }))
const load = (env: Record<string, string>) => loadConfig({ env, cwd }).config

describe('subdomainLabel', () => {
  it('keeps DNS labels and hashes the rest, as JupyterHub (and proxy/spec/subdomain_spec.lua)', () => {
    expect(subdomainLabel('alice')).toBe('alice')
    expect(subdomainLabel('a-b')).toBe('a-b')
    expect(subdomainLabel('a--b')).toBe('u-ab--90827a2')
    expect(subdomainLabel('Alice')).toBe('u-alice--3bc5106')
    expect(subdomainLabel('123')).toBe('u-123--a665a45')
    expect(subdomainLabel('café')).toBe('u-caf--850f7dc')
    expect(subdomainLabel('-ab')).toBe('u-ab--acac1ee')
    expect(subdomainLabel('a'.repeat(63))).toBe('a'.repeat(63))
    expect(subdomainLabel('a'.repeat(64))).toBe('u-aaaaaaaa--ffe054f')
    expect(subdomainLabel('...')).toMatch(/^u-x--[0-9a-f]{7}$/)
  })

  it("builds URLs on the user's host only with subdomainHost", () => {
    expect(userOrigin('https://hub.example.org', 'alice')).toBe('https://alice.hub.example.org')
    expect(serverUrl('http://hub.localhost:8123', 'Alice', '/user/Alice/')).toBe(
      'http://u-alice--3bc5106.hub.localhost:8123/user/Alice/',
    )
    expect(serverUrl(undefined, 'alice', '/user/alice/')).toBe('/user/alice/')
    expect(userOfPath('/user/caf%C3%A9/tree?x')).toBe('café')
    expect(userOfPath('/user/alice')).toBe('alice')
    expect(userOfPath('/hub/user/alice/')).toBeUndefined()
    expect(userOfPath('/user/%E0%A4%A/')).toBeUndefined()
  })
})

describe('config subdomainHost', () => {
  it('is off by default and publicUrl stays as it was', () => {
    const c = load({ EDGEHUB_PORT: '8000' })
    expect(c.subdomainHost).toBeUndefined()
    expect(publicUrl(c)).toBe('http://127.0.0.1:8000')
  })

  it('gives publicUrl when that is not set, and must agree with it when it is', () => {
    expect(publicUrl(load({ EDGEHUB_SUBDOMAIN_HOST: 'https://hub.example.org' }))).toBe('https://hub.example.org')
    expect(
      publicUrl(
        load({ EDGEHUB_SUBDOMAIN_HOST: 'https://hub.example.org', EDGEHUB_PUBLIC_URL: 'https://hub.example.org/' }),
      ),
    ).toBe('https://hub.example.org')
    expect(() =>
      load({ EDGEHUB_SUBDOMAIN_HOST: 'https://hub.example.org', EDGEHUB_PUBLIC_URL: 'https://other.example.org' }),
    ).toThrow(/publicUrl: must have the scheme, host and port of subdomainHost/)
  })

  it('refuses anything but scheme://name[:port], with one line naming the key', () => {
    for (const bad of [
      'https://hub.example.org/jupyter',
      'https://hub.example.org/?x=1',
      'https://u:p@hub.example.org',
      'https://10.0.0.1',
      'https://[::1]:8000',
      'ftp://hub.example.org',
      'hub.example.org',
      'https://hub_x.example.org',
    ]) {
      expect(() => load({ EDGEHUB_SUBDOMAIN_HOST: bad }), bad).toThrow(
        /\n {2}subdomainHost: .*\(from EDGEHUB_SUBDOMAIN_HOST\)$/,
      )
    }
    expect(load({ EDGEHUB_SUBDOMAIN_HOST: 'http://hub.localhost:8123' }).subdomainHost).toBe(
      'http://hub.localhost:8123',
    )
  })

  it("warns on the admin page when others open servers on the hub's origin", () => {
    expect(sharedOriginNotice(load({ EDGEHUB_PROXY_ADMIN_ACCESS: 'false' }))).toBeUndefined()
    expect(sharedOriginNotice(load({ EDGEHUB_PROXY_ADMIN_ACCESS: 'true' }))).toMatch(
      /proxy\.adminAccess.*Set subdomainHost/,
    )
    expect(
      sharedOriginNotice(
        load({ EDGEHUB_PROXY_ADMIN_ACCESS: 'true', EDGEHUB_SUBDOMAIN_HOST: 'https://hub.example.org' }),
      ),
    ).toBeUndefined()
    const file = join(cwd, 'roles.yaml')
    writeFileSync(
      file,
      stringify({
        proxy: { adminAccess: false },
        roles: [{ name: 'sharers', scopes: ['shares!user'], users: ['alice'] }],
      }),
    )
    expect(sharedOriginNotice(loadConfig({ file, env: {}, cwd }).config)).toMatch(/share others' servers/)
  })
})

describe('the proxy config with subdomainHost', () => {
  const base = {
    listen: { host: '127.0.0.1', port: 8000 },
    hubUpstreams: ['127.0.0.1:8081'],
    redis: { host: '127.0.0.1', port: 6379 },
    prefix: 'edgehub:',
    runDir: '/tmp/x',
    modules: [],
  }
  it("renders the hand-off, the hub location's check and the cookie filter only with it", () => {
    const off = renderNginxConf(base)
    expect(off).not.toMatch(/handoff|hub_location|user_cookies/)
    expect(off).toContain('subdomain_host = nil,')
    const on = renderNginxConf({ ...base, subdomainHost: 'https://hub.example.org' })
    expect(on).toContain('location = /_edgehub/handoff {')
    expect(on).toContain('require("edgehub.access").hub_location()')
    expect(on).toContain('require("edgehub.access").user_cookies()')
    expect(on).toContain('subdomain_host = "https://hub.example.org",')
  })
  it('refuses a value that could break out of the config', () => {
    expect(() => renderNginxConf({ ...base, subdomainHost: 'https://hub.example.org/"; os.exit()' })).toThrow(
      /subdomainHost: expected/,
    )
  })
})
