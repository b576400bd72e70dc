import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configSchema } from './config/schema'
import { hubRedisAuth, proxyRedisAuth } from './redis-auth'
import { redisOptions, redisTarget } from './deps'
import { prepareRedisAcl } from './stack/redis-acl'
import { renderNginxConf } from '../../proxy/src/render'
import { ConfigError } from '../../runtime/src/errors'

const dir = mkdtempSync(join(tmpdir(), 'edgehub-redis-auth-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const config = (raw: Record<string, unknown>) => configSchema.parse({ dataDir: dir, ...raw })
const file = (name: string, text: string) => {
  const p = join(dir, name)
  writeFileSync(p, text, { mode: 0o600 })
  return p
}

describe('Redis log-ins of the hub and the proxies', () => {
  it("takes the hub's from redis.url, its password from redis.passwordFile when given", () => {
    expect(hubRedisAuth(config({ redis: { url: 'redis://edgehub-hub:p%40ss@10.0.0.5:6379/0' } }))).toEqual({
      username: 'edgehub-hub',
      password: 'p@ss',
    })
    const c = config({
      redis: { url: 'redis://edgehub-hub@10.0.0.5:6379/0', passwordFile: file('hub.pw', 'from-file\nignored\n') },
    })
    expect(hubRedisAuth(c)).toEqual({ username: 'edgehub-hub', password: 'from-file' })
    expect(redisOptions(c)).toMatchObject({ username: 'edgehub-hub', password: 'from-file' })
    // the default user, as before: a password alone
    expect(hubRedisAuth(config({ redis: { url: 'redis://:pw@10.0.0.5:6379' } }))).toEqual({
      username: undefined,
      password: 'pw',
    })
  })

  it("gives the proxies proxy.redis when set, else the hub's log-in", () => {
    const own = config({
      redis: { url: 'redis://edgehub-hub:hubpw@10.0.0.5:6379/2' },
      proxy: { redis: { username: 'edgehub-proxy', passwordFile: file('proxy.pw', 'proxypw\n') } },
    })
    expect(proxyRedisAuth(own)).toEqual({ username: 'edgehub-proxy', password: 'proxypw' })
    expect(redisTarget(own)).toEqual({
      host: '10.0.0.5',
      port: 6379,
      username: 'edgehub-proxy',
      password: 'proxypw',
      db: 2,
    })
    expect(proxyRedisAuth(config({ redis: { url: 'redis://edgehub-hub:hubpw@10.0.0.5:6379' } }))).toEqual({
      username: 'edgehub-hub',
      password: 'hubpw',
    })
    // with Sentinel, the master's log-in goes with the sentinels
    const s = config({
      redis: { url: 'redis://edgehub-hub:hubpw@mymaster/0', sentinel: { hosts: ['10.0.0.7:26379'], password: 'spw' } },
      proxy: { redis: { username: 'edgehub-proxy', password: 'ppw' } },
    })
    expect(redisTarget(s)).toMatchObject({ username: 'edgehub-proxy', password: 'ppw', sentinel: { password: 'spw' } })
    expect(redisOptions(s)).toMatchObject({ username: 'edgehub-hub', password: 'hubpw', sentinelPassword: 'spw' })
    // the sentinels' own ACL user
    const su = config({
      redis: {
        url: 'redis://edgehub-hub:hubpw@mymaster/0',
        sentinel: { hosts: ['10.0.0.7:26379'], username: 'edgehub-sentinel', password: 'spw' },
      },
    })
    expect(redisTarget(su)).toMatchObject({ sentinel: { username: 'edgehub-sentinel', password: 'spw' } })
    expect(redisOptions(su)).toMatchObject({ sentinelUsername: 'edgehub-sentinel', sentinelPassword: 'spw' })
  })

  it("uses the private Redis's users when the config names no Redis", () => {
    const dataDir = mkdtempSync(join(dir, 'data-'))
    const c = configSchema.parse({ dataDir })
    expect(hubRedisAuth(c)).toEqual({}) // before the first start: nothing to log in with
    const { creds } = prepareRedisAcl(join(dataDir, 'redis'), 'edgehub:')
    expect(hubRedisAuth(c)).toEqual(creds.hub)
    expect(proxyRedisAuth(c)).toEqual(creds.proxy)
    expect(redisTarget(c)).toMatchObject({
      host: '127.0.0.1',
      port: 6390,
      username: 'edgehub-proxy',
      password: creds.proxy.password,
    })
  })

  it('names the setting of a password file that cannot be read or is empty', () => {
    const missing = config({ redis: { url: 'redis://edgehub-hub@h:6379', passwordFile: join(dir, 'nope') } })
    expect(() => hubRedisAuth(missing)).toThrow(
      new ConfigError(`edgehub: redis.passwordFile: cannot read ${join(dir, 'nope')}: ENOENT`),
    )
    const empty = config({
      redis: { url: 'redis://h:6379' },
      proxy: { redis: { username: 'edgehub-proxy', passwordFile: file('empty.pw', '\n') } },
    })
    expect(() => proxyRedisAuth(empty)).toThrow(/^edgehub: proxy\.redis\.passwordFile: .* is empty/)
    expect(() => config({ proxy: { redis: { password: 'a', passwordFile: 'b' } } })).toThrow(/not both/)
  })

  it('renders the proxy user name for Lua, and refuses one without a password', () => {
    const base = {
      listen: { host: '127.0.0.1', port: 8000 },
      hubUpstreams: ['127.0.0.1:8081'],
      prefix: 'edgehub:',
      runDir: '/tmp/run',
      modules: [],
    }
    const conf = renderNginxConf({
      ...base,
      redis: { host: '127.0.0.1', port: 6379, username: 'edgehub-proxy', password: 'pw' },
    })
    expect(conf).toContain('username = "edgehub-proxy",')
    expect(renderNginxConf({ ...base, redis: { host: '127.0.0.1', port: 6379 } })).toContain('username = nil,')
    expect(() =>
      renderNginxConf({ ...base, redis: { host: '127.0.0.1', port: 6379, username: 'edgehub-proxy' } }),
    ).toThrow(/redis\.username: needs redis\.password/)
    expect(() =>
      renderNginxConf({ ...base, redis: { host: '127.0.0.1', port: 6379, username: 'a b', password: 'pw' } }),
    ).toThrow(/redis\.username: expected/)
    const sentinel = { hosts: [{ host: '127.0.0.1', port: 26379 }], masterName: 'm' }
    expect(
      renderNginxConf({ ...base, redis: { sentinel: { ...sentinel, username: 'edgehub-sentinel', password: 'spw' } } }),
    ).toContain('sentinel_username = "edgehub-sentinel",')
    expect(() =>
      renderNginxConf({ ...base, redis: { sentinel: { ...sentinel, username: 'edgehub-sentinel' } } }),
    ).toThrow(/redis\.sentinel\.username: needs redis\.sentinel\.password/)
  })
})
