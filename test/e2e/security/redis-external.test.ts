// docs/high-availability.md, step 5, followed as written: the ACL users of its `conf redis-acl` block
// on a Redis of the operator's, and edgehub.yaml from its `yaml redis-acl` block (the address mapped
// to a free loopback port, the password files in a temp dir). The CLI and an `edgehub hub` log in as
// edgehub-hub, an `edgehub proxy` as edgehub-proxy, and the whole path works: first user, login
// through the proxy, the proxy synced. The doc's rules are the ones `edgehub up` gives its own Redis.
import { afterAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { Redis } from 'ioredis'
import { testRedis } from '../../support/redis'
import { BIN, ROOT } from '../../support/stack'
import { cli, logIn } from '../../support/people'
import { json } from '../../support/client'
import { startChild, type Child } from '../../../runtime/src/child'
import { hubAclRules, proxyAclRules } from '../../../control-plane/src/protocol'
import { HEALTH_PATH } from '../../../proxy/src/nginx-process'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'

const DOC = readFileSync(join(ROOT, 'docs/high-availability.md'), 'utf8')
const docBlock = (lang: string) => {
  const found = [...DOC.matchAll(new RegExp(`^\`\`\`${lang} redis-acl\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))]
  if (found.length !== 1)
    throw new Error(`docs/high-availability.md: expected one \`${lang} redis-acl\` block, found ${found.length}`)
  return found[0][1]
}

const dir = mkdtempSync(join(tmpdir(), 'edgehub-redis-external-'))
const children: Child[] = []
let stopRedis: (() => Promise<void>) | undefined
afterAll(async () => {
  for (const c of children) await c.stop()
  await stopRedis?.()
  if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
})

const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))

describe("an operator's Redis with the documented ACL users", () => {
  it('gives the hub and the proxy the rules edgehub up gives its own Redis', () => {
    const lines = docBlock('conf').trim().split('\n')
    expect(lines).toEqual([
      `user edgehub-hub on >HUB_PASSWORD ${hubAclRules('edgehub:')}`,
      `user edgehub-proxy on >PROXY_PASSWORD ${proxyAclRules('edgehub:')}`,
    ])
  })

  it('runs the CLI, a hub and a proxy, each logged in as its own user', async () => {
    // The operator's Redis: the doc's user lines, and requirepass for the default user (step 1).
    const redis = await testRedis()
    stopRedis = redis.stop
    const hubPassword = randomBytes(32).toString('hex')
    const proxyPassword = randomBytes(32).toString('hex')
    for (const line of docBlock('conf').trim().split('\n')) {
      const [, name, ...rules] = line
        .replace('HUB_PASSWORD', hubPassword)
        .replace('PROXY_PASSWORD', proxyPassword)
        .split(' ')
      await redis.client.call('ACL', 'SETUSER', name, ...rules)
    }
    const defaultPassword = randomBytes(16).toString('hex')
    await redis.client.config('SET', 'requirepass', defaultPassword)

    // edgehub.yaml: the doc's block, with this machine's address, ports and files.
    const settings = parse(docBlock('yaml')) as {
      redis: { url: string; passwordFile: string }
      proxy: { redis: { passwordFile: string }; workers?: number }
    }
    const [port, hubPort] = await Promise.all([freePort(), freePort()])
    settings.redis.url = settings.redis.url.replace('10.0.0.5:6379', `127.0.0.1:${redis.port}`)
    settings.redis.passwordFile = join(dir, 'redis-hub.password')
    settings.proxy.redis.passwordFile = join(dir, 'redis-proxy.password')
    settings.proxy.workers = 1
    writeFileSync(settings.redis.passwordFile, `${hubPassword}\n`, { mode: 0o600 })
    writeFileSync(settings.proxy.redis.passwordFile, `${proxyPassword}\n`, { mode: 0o600 })
    const configFile = join(dir, 'edgehub.yaml')
    writeFileSync(
      configFile,
      stringify({ dataDir: dir, port, hub: { port: hubPort }, auth: { native: { scryptCost: 1024 } }, ...settings }),
    )
    expect(readFileSync(configFile, 'utf8')).not.toContain(hubPassword)

    const hub = { url: `http://127.0.0.1:${port}`, dir, configFile }
    cli(hub, ['user', 'add', 'alice', '--admin', '--password-stdin'], 'alice-password')

    const env = cleanEnv()
    children.push(
      startChild({
        name: 'hub',
        command: process.execPath,
        args: [BIN, 'hub', '--config', configFile],
        env,
        logFile: join(dir, 'hub.log'),
      }),
    )
    children.push(
      startChild({
        name: 'proxy',
        command: process.execPath,
        args: [BIN, 'proxy', '--config', configFile],
        env,
        logFile: join(dir, 'proxy.log'),
      }),
    )
    await waitFor(
      'the proxy to sync from Redis',
      async () => {
        const res = await fetch(`${hub.url}${HEALTH_PATH}`).catch(() => null)
        return res?.status === 200 && (await json(res)).redis === 'connected'
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    )

    await waitFor(
      'the hub to answer through the proxy',
      async () => (await fetch(`${hub.url}/hub/health`).catch(() => null))?.status === 200,
      { timeoutMs: 30_000, intervalMs: 100 },
    )
    const alice = await logIn(hub.url, 'alice', 'alice-password')
    const me = await alice.api('GET', '/user')
    expect(me.status).toBe(200)
    expect((await json(me)).admin).toBe(true)

    // who is logged in (asked as the default user, the operator's): the hub and the proxy, each as its own user
    const operator = new Redis({ host: '127.0.0.1', port: redis.port, password: defaultPassword })
    try {
      const users = String(await operator.call('CLIENT', 'LIST'))
        .split('\n')
        .map((l) => /\buser=(\S+)/.exec(l)?.[1])
        .filter(Boolean)
      expect(new Set(users)).toEqual(new Set(['default', 'edgehub-hub', 'edgehub-proxy']))
    } finally {
      operator.disconnect()
    }
    const nginxConf = readFileSync(join(dir, 'proxy', 'nginx.conf'), 'utf8')
    expect(nginxConf).toContain('username = "edgehub-proxy"')
    expect(nginxConf).not.toContain(hubPassword)
    const proxyErrors = readFileSync(join(dir, 'proxy', 'logs', 'error.log'), 'utf8')
    expect(proxyErrors).not.toMatch(/AUTH failed|NOPERM|NOAUTH|WRONGPASS/)
    expect(readFileSync(join(dir, 'hub.log'), 'utf8')).not.toContain(hubPassword)
  })

  it('stops a hub with one line naming redis.passwordFile when the file cannot be read', async () => {
    const configFile = join(dir, 'missing.yaml')
    const hubPort = await freePort()
    writeFileSync(
      configFile,
      stringify({
        dataDir: dir,
        hub: { port: hubPort },
        redis: { url: 'redis://edgehub-hub@127.0.0.1:1/0', passwordFile: join(dir, 'nope.password') },
      }),
    )
    const r = spawnSync(process.execPath, [BIN, 'hub', '--config', configFile], {
      encoding: 'utf8',
      env: cleanEnv(),
      timeout: 30_000,
    })
    expect(r.status).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual([
      `edgehub: redis.passwordFile: cannot read ${join(dir, 'nope.password')}: ENOENT`,
    ])
  })
})
