// The private Redis is for the hub and the proxy only. A user's code runs as another Unix user on the
// same machine and can reach Redis's loopback port: as that user (nobody, through setpriv), every
// command is refused and no file holding a credential can be read. The hub's ACL user can do what the
// hub does; the proxy's can read the proxy tables and stream and write activity, nothing else. A
// data directory from before ACLs gets them at its next start, its data kept.
import { afterAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { BIN, cleanEnv, startRedisServer, type RedisServer } from '../../support/harness'
import { ACL_FILE, CREDENTIALS_FILE } from '../../../control-plane/src/protocol'
import { freePort } from '../../../runtime/src/ports'

const asRoot = process.getuid?.() === 0
const dirs: string[] = []
const running: RedisServer[] = []
const clients: Redis[] = []
afterAll(async () => {
  for (const c of clients) c.disconnect()
  for (const r of running) await r.stop()
  if (!process.env.KEEP_TEST_DIRS) for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** A temp directory others may enter, as a data directory made with mkdir is (mkdtemp makes 0700). */
function openDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'edgehub-redis-acl-'))
  chmodSync(d, 0o755)
  dirs.push(d)
  return d
}

async function aclRedis(dir: string, port?: number): Promise<RedisServer> {
  const r = await startRedisServer({ dir, port: port ?? (await freePort()), acl: { prefix: 'edgehub:' } })
  running.push(r)
  return r
}

const client = (url: string) => {
  const c = new Redis(url, { maxRetriesPerRequest: 0 })
  clients.push(c)
  return c
}

/** The proxy's log-in; ioredis's ready check (INFO) is not among its commands, nor the proxy's. */
function proxyClient(r: RedisServer): Redis {
  const p = r.credentials!.proxy
  const c = new Redis({
    host: '127.0.0.1',
    port: r.port,
    username: p.username,
    password: p.password,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
  })
  clients.push(c)
  return c
}

/** Runs a command as nobody:nogroup with no supplementary groups, as a user's kernel would be. */
function asNobody(cmd: string, args: string[]) {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', cmd, ...args], {
    encoding: 'utf8',
    timeout: 10_000,
  })
  return { out: (r.stdout ?? '').trim(), err: (r.stderr ?? '').trim(), status: r.status }
}

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: Error) => e.message,
  )

/** The activity merge the proxy runs (proxy/lua/edgehub/keys.lua, the hub's too), as it is written there. */
const MERGE_SCRIPT = /_M\.ACTIVITY_MERGE_SCRIPT = \[\[\n([\s\S]*?)\]\]/.exec(
  readFileSync(new URL('../../../proxy/lua/edgehub/keys.lua', import.meta.url), 'utf8'),
)![1]

describe('the private Redis of edgehub up', () => {
  it.skipIf(!asRoot)('refuses every command from another Unix user, who cannot read a credential either', async () => {
    const dataDir = openDir()
    const dir = join(dataDir, 'redis')
    const r = await aclRedis(dir)
    const hub = client(r.url)
    await hub.hset('edgehub:user:alice', 'name', 'alice', 'admin', '0')
    await hub.hset('edgehub:proxy:keys', 'k1', JSON.stringify({ secret: 'c2VjcmV0', created: 1 }))
    await hub.set('edgehub:session:s1', 'alice')

    const attempts = [
      ['PING'],
      ['AUTH', 'default', ''],
      ['AUTH', 'default', 'nopass'],
      ['AUTH', 'edgehub-hub', 'guess'],
      ['AUTH', 'edgehub-proxy', 'guess'],
      ['HELLO', '3', 'AUTH', 'default', ''],
      ['HSET', 'edgehub:user:alice', 'admin', '1'],
      ['HGETALL', 'edgehub:proxy:keys'],
      ['GET', 'edgehub:session:s1'],
      ['KEYS', '*'],
      ['CONFIG', 'GET', '*'],
      ['CONFIG', 'SET', 'dir', '/tmp'],
      ['ACL', 'LIST'],
      ['ACL', 'WHOAMI'],
      ['INFO'],
      ['MONITOR'],
      ['EVAL', "return redis.call('HSET', 'edgehub:user:alice', 'admin', '1')", '0'],
      ['FLUSHALL'],
      ['SHUTDOWN', 'NOSAVE'],
    ]
    for (const args of attempts) {
      const res = asNobody('redis-cli', ['-h', '127.0.0.1', '-p', String(r.port), ...args])
      expect(res.out, `${args.join(' ')}: ${res.out} ${res.err}`).toMatch(
        /^(NOAUTH Authentication required|WRONGPASS invalid username-password pair or user is disabled)\./,
      )
    }
    // nothing was changed or stopped
    expect(await hub.hget('edgehub:user:alice', 'admin')).toBe('0')
    expect(await hub.ping()).toBe('PONG')

    // the files that hold a credential or the data: the user that runs Redis only
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    for (const f of [CREDENTIALS_FILE, ACL_FILE, 'redis.conf'])
      expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600)
    for (const f of [CREDENTIALS_FILE, ACL_FILE, 'redis.conf', 'appendonlydir']) {
      const res = asNobody('cat', [join(dir, f)])
      expect(res.status, f).not.toBe(0)
      expect(res.err, f).toContain('Permission denied')
    }
    // no file nobody can read holds either password (grep prints the files that match)
    const { hub: h, proxy: p } = r.credentials!
    for (const secret of [h.password, p.password]) {
      const res = asNobody('grep', ['-rlF', secret, dataDir])
      expect(res.out).toBe('')
    }
    // the ACL file holds digests, not the passwords
    const acl = readFileSync(join(dir, ACL_FILE), 'utf8')
    expect(acl).not.toContain(h.password)
    expect(acl).toContain('user default off')
  })

  it("lets the hub's user do what the hub does, on its own keys", async () => {
    const r = await aclRedis(join(openDir(), 'redis'))
    const hub = client(r.url)
    expect(await hub.call('ACL', 'WHOAMI')).toBe('edgehub-hub')
    // hashes, sets, sorted sets, strings with expiry, transactions, scripts (EVAL and EVALSHA), streams
    const res = await hub
      .multi()
      .hset('edgehub:user:bob', 'name', 'bob')
      .sadd('edgehub:users', 'bob')
      .zadd('edgehub:token-expiry', 10, 't1')
      .set('edgehub:lock:server:bob/', 'x', 'PX', 1000, 'NX')
      .xadd('edgehub:proxy:changes', '1-0', 't', 'users', 'k', 'bob', 'o', 'set', 'v', '{}')
      .incr('edgehub:proxy:version')
      .exec()
    expect(res!.every(([err]) => err === null)).toBe(true)
    expect(await hub.eval("return redis.call('HGET', KEYS[1], 'name')", 1, 'edgehub:user:bob')).toBe('bob')
    const sha = (await hub.script('LOAD', "return redis.call('TIME')[1]")) as string
    expect(Number(await hub.evalsha(sha, 0))).toBeGreaterThan(0)
    expect(await hub.xread('COUNT', 10, 'BLOCK', 10, 'STREAMS', 'edgehub:proxy:changes', '0')).toHaveLength(1)
    const [cursor] = await hub.scan('0', 'MATCH', 'edgehub:user:*', 'COUNT', 100)
    expect(cursor).toBeDefined()
    expect(await hub.info('server')).toContain('redis_version')
    expect((await hub.role())[0]).toBe('master')
    expect(await hub.wait(0, 10)).toBe(0)
    expect(await hub.publish('edgehub:news', 'x')).toBe(0)
    // nothing outside its prefix, nothing that would wipe or reconfigure Redis
    expect(await errorOf(hub.set('other:key', '1'))).toMatch(/^NOPERM/)
    expect(await errorOf(hub.eval("return redis.call('SET', 'other:key', '1')", 0))).toMatch(/NOPERM|can't access/)
    expect(await errorOf(hub.publish('other', 'x'))).toMatch(/^NOPERM/)
    for (const cmd of [
      ['FLUSHALL'],
      ['FLUSHDB'],
      ['KEYS', '*'],
      ['CONFIG', 'GET', 'dir'],
      ['ACL', 'LIST'],
      ['SWAPDB', '0', '1'],
      ['REPLICAOF', '127.0.0.1', '1'],
      ['MONITOR'],
      ['SHUTDOWN'],
    ]) {
      expect(await errorOf(hub.call(cmd[0], ...cmd.slice(1))), cmd.join(' ')).toMatch(/^NOPERM/)
    }
  })

  it("lets the proxy's user read the proxy tables and stream and merge activity, and nothing else", async () => {
    const r = await aclRedis(join(openDir(), 'redis'))
    const hub = client(r.url)
    await hub.hset('edgehub:proxy:routes', '/user/alice/', '{"kind":"user"}')
    await hub.hset('edgehub:proxy:keys', 'k1', '{"secret":"c2VjcmV0"}')
    await hub.xadd('edgehub:proxy:changes', '1-0', 't', 'routes', 'k', '/user/alice/', 'o', 'set', 'v', '{}')
    await hub.set('edgehub:proxy:version', '1')
    await hub.hset('edgehub:user:alice', 'admin', '0')
    await hub.set('edgehub:session:s1', 'alice')
    const proxy = proxyClient(r)

    // what sync.lua does: a snapshot in MULTI/EXEC, then XREAD; what redis_master.lua does: ROLE
    const snap = await proxy
      .multi()
      .get('edgehub:proxy:version')
      .hgetall('edgehub:proxy:routes')
      .hgetall('edgehub:proxy:keys')
      .exec()
    expect(snap!.map(([err]) => err)).toEqual([null, null, null])
    expect(snap![2][1]).toEqual({ k1: '{"secret":"c2VjcmV0"}' })
    expect(await proxy.xread('COUNT', 10, 'STREAMS', 'edgehub:proxy:changes', '0')).toHaveLength(1)
    expect((await proxy.role())[0]).toBe('master')
    // what activity.lua does: its merge script on P activity
    expect(await proxy.eval(MERGE_SCRIPT, 1, 'edgehub:activity', 'alice/', '1700000000000')).toBe(1)
    expect(await hub.hget('edgehub:activity', 'alice/')).toBe('1700000000000')

    // no user, session or token record; no write to the proxy tables (an admin flag there opens every server)
    const refused: Array<[string, Promise<unknown>]> = [
      ['HSET user', proxy.hset('edgehub:user:alice', 'admin', '1')],
      ['HGETALL user', proxy.hgetall('edgehub:user:alice')],
      ['GET session', proxy.get('edgehub:session:s1')],
      ['HSET proxy:users', proxy.hset('edgehub:proxy:users', 'alice', '{"admin":true}')],
      ['HSET proxy:keys', proxy.hset('edgehub:proxy:keys', 'k2', '{"secret":"x"}')],
      [
        'XADD stream',
        proxy.xadd('edgehub:proxy:changes', '2-0', 't', 'users', 'k', 'alice', 'o', 'set', 'v', '{"admin":true}'),
      ],
      ['DEL activity', proxy.del('edgehub:activity')],
      ['SET version', proxy.set('edgehub:proxy:version', '9')],
      ['KEYS', proxy.keys('*')],
      ['SCAN', proxy.scan('0')],
      ['CONFIG', proxy.config('GET', 'dir')],
      ['FLUSHALL', proxy.flushall()],
      ['EVAL, key in KEYS', proxy.eval("return redis.call('HSET', KEYS[1], 'admin', '1')", 1, 'edgehub:user:alice')],
      ['EVAL, key in the script', proxy.eval("return redis.call('HSET', 'edgehub:user:alice', 'admin', '1')", 0)],
      ['EVAL, proxy table', proxy.eval("return redis.call('HSET', 'edgehub:proxy:users', 'alice', '1')", 0)],
    ]
    for (const [what, p] of refused) expect(await errorOf(p), what).toMatch(/NOPERM|can't access|no permissions/)
    expect(await hub.hget('edgehub:user:alice', 'admin')).toBe('0')
    expect(await hub.hget('edgehub:proxy:users', 'alice')).toBeNull()
    expect(await hub.get('edgehub:proxy:version')).toBe('1')
  })

  it('tells a hub without the log-in, or with a wrong one, why in one line', async () => {
    const r = await aclRedis(join(openDir(), 'redis'))
    for (const [url, why] of [
      [`redis://127.0.0.1:${r.port}`, 'it wants a user name and password (NOAUTH)'],
      [`redis://edgehub-hub:wrong@127.0.0.1:${r.port}`, 'it refused the user name and password (WRONGPASS)'],
    ]) {
      // `edgehub hub` pointed at it, as an operator starts one
      const hub = spawnSync(process.execPath, [BIN, 'hub'], {
        encoding: 'utf8',
        timeout: 30_000,
        env: cleanEnv({
          EDGEHUB_REDIS_URL: url,
          EDGEHUB_DATA_DIR: openDir(),
          EDGEHUB_HUB_PORT: String(await freePort()),
        }),
      })
      expect(hub.status).not.toBe(0)
      expect(hub.stderr.trim()).toBe(`edgehub: cannot reach Redis at 127.0.0.1:${r.port} (redis.url): ${why}`)
    }
  }, 60_000)

  it('keeps transactions and script effects across a restart (Redis replays its AOF as the default user)', async () => {
    const dir = join(openDir(), 'redis')
    const port = await freePort()
    const r = await aclRedis(dir, port)
    const hub = client(r.url)
    await hub.multi().hset('edgehub:user:carol', 'name', 'carol').sadd('edgehub:users', 'carol').exec()
    await hub.eval("return redis.call('HSET', KEYS[1], 'admin', '0')", 1, 'edgehub:user:carol')
    await proxyClient(r).eval(MERGE_SCRIPT, 1, 'edgehub:activity', 'carol/', '1700000000000')
    hub.disconnect()
    await r.stop()
    running.splice(running.indexOf(r), 1)

    const again = await aclRedis(dir, port)
    const after = client(again.url)
    expect(await after.hgetall('edgehub:user:carol')).toEqual({ name: 'carol', admin: '0' })
    expect(await after.smembers('edgehub:users')).toEqual(['carol'])
    expect(await after.hget('edgehub:activity', 'carol/')).toBe('1700000000000')
    expect(readFileSync(join(dir, 'redis.log'), 'utf8')).not.toContain('NOPERM')
  })

  it('gives a data directory from before ACLs its users at the next start, keeping the data', async () => {
    const dir = join(openDir(), 'redis')
    const port = await freePort()
    const old = await startRedisServer({ dir, port }) // as edgehub up ran it before: no ACL
    const before = client(old.url)
    await before.multi().hset('edgehub:user:alice', 'name', 'alice', 'admin', '1').sadd('edgehub:users', 'alice').exec()
    await before.set('edgehub:hub-id', 'stack-1')
    before.disconnect()
    await old.stop()

    const r = await aclRedis(dir, port)
    expect(r.credentials).toBeDefined()
    const hub = client(r.url)
    expect(await hub.hgetall('edgehub:user:alice')).toEqual({ name: 'alice', admin: '1' })
    expect(await hub.get('edgehub:hub-id')).toBe('stack-1')
    expect(await hub.smembers('edgehub:users')).toEqual(['alice'])
    const anonymous = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
    })
    anonymous.on('error', () => {}) // its refusals are asserted below
    clients.push(anonymous)
    expect(await errorOf(anonymous.ping())).toMatch(/^NOAUTH/)
    const auth = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'AUTH', 'default', ''], {
      encoding: 'utf8',
    })
    expect(auth.stdout).toMatch(/^WRONGPASS/)

    // the next start keeps the same log-ins (proxies and hubs that run on keep working)
    hub.disconnect()
    await r.stop()
    running.splice(running.indexOf(r), 1)
    const again = await aclRedis(dir, port)
    expect(again.credentials).toEqual(r.credentials)
    expect(await client(again.url).hget('edgehub:user:alice', 'admin')).toBe('1')
    expect(readdirSync(dir)).toContain(CREDENTIALS_FILE)
  })
})
