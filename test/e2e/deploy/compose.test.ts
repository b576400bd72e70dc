// deploy/compose: the compose file validated by Debian's docker-compose (`config`), its parts
// checked against each other (ports in edgehub.yaml, haproxy.cfg and the services' environment;
// which service gets which secret), HAProxy's file by haproxy -c, edgehub.yaml by the hub's config
// check. Then the stack brought up for real on the tests' own Docker engine (Debian's dockerd,
// test/support/docker.ts), with host networking, from images imported from local files
// (compose-images.ts: the Dockerfiles' run settings, the host's programs), the compose file's own
// commands, secrets and users: Redis master and replica, 3 sentinels, 2 hubs, 2 proxies, HAProxy.
// A user made with `docker-compose exec hub-1 edgehub user add` logs in through HAProxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'yaml'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'
import { Client, json } from '../../support/client'
import { dockerEngine, dockerSkipReason } from '../../support/docker'
import { ROOT } from '../../support/stack'
import { composeOverride, importComposeImages } from './compose-images'
import { configCheck } from './helm'

const run = promisify(execFile)
const COMPOSE_DIR = join(ROOT, 'deploy/compose')
const compose = (args: string[], cwd: string, env: Record<string, string> = {}) =>
  spawnSync('docker-compose', args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 })

const scratch = mkdtempSync(join(tmpdir(), 'edgehub-compose-'))
afterAll(() => {
  if (!process.env.KEEP_TEST_DIRS) rmSync(scratch, { recursive: true, force: true })
})

describe('deploy/compose, checked without running it', () => {
  const r = compose(['-f', 'docker-compose.yml', 'config'], COMPOSE_DIR)
  const config = r.status === 0 ? parse(r.stdout) : undefined
  const services = (config?.services ?? {}) as Record<string, any>
  const envOf = (s: string, k: string) => String(services[s]?.environment?.[k])
  const edgehub = parse(readFileSync(join(COMPOSE_DIR, 'edgehub.yaml'), 'utf8'))

  it('docker-compose config accepts it', () => {
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  it('has the one-host HA stack, every service on the host network', () => {
    expect(Object.keys(services).sort()).toEqual([
      'haproxy',
      'hub-1',
      'hub-2',
      'proxy-1',
      'proxy-2',
      'redis-master',
      'redis-replica',
      'sentinel-1',
      'sentinel-2',
      'sentinel-3',
    ])
    for (const [name, s] of Object.entries(services)) {
      expect(s.network_mode, name).toBe('host')
      expect(s.restart, name).toBe('unless-stopped')
    }
    expect(envOf('redis-replica', 'REPLICA_OF')).toBe(`127.0.0.1 ${envOf('redis-master', 'REDIS_PORT')}`)
  })

  it('the ports agree: sentinels, hub upstreams and HAProxy servers are the services’ own', () => {
    const sentinels = ['sentinel-1', 'sentinel-2', 'sentinel-3'].map((s) => `127.0.0.1:${envOf(s, 'SENTINEL_PORT')}`)
    expect(edgehub.redis.sentinel.hosts).toEqual(sentinels)
    expect(edgehub.proxy.hubUpstreams).toEqual(
      ['hub-1', 'hub-2'].map((s) => `127.0.0.1:${envOf(s, 'EDGEHUB_HUB_PORT')}`),
    )
    const haproxy = readFileSync(join(COMPOSE_DIR, 'haproxy.cfg'), 'utf8')
    const servers = [...haproxy.matchAll(/^\s*server \S+ (\S+) check$/gm)].map((m) => m[1])
    expect(servers).toEqual(['proxy-1', 'proxy-2'].map((s) => `127.0.0.1:${envOf(s, 'EDGEHUB_PORT')}`))
    expect(edgehub.proxy.trustedProxies).toEqual(['127.0.0.1'])
    // the sentinels watch the master the services run
    const sentinelScript = services['sentinel-1'].command.join(' ')
    expect(sentinelScript).toContain(
      `sentinel monitor ${edgehub.redis.sentinel.masterName} 127.0.0.1 ${envOf('redis-master', 'REDIS_PORT')} 2`,
    )
  })

  it('each part gets only the secrets it needs, and edgehub.yaml holds none', () => {
    const secretsOf = (s: string) => (services[s].secrets ?? []).map((x: { source: string }) => x.source).sort()
    for (const s of ['hub-1', 'hub-2']) expect(secretsOf(s)).toEqual(['hub_redis_password'])
    for (const s of ['proxy-1', 'proxy-2']) {
      expect(secretsOf(s)).toEqual(['proxy_redis_password'])
      expect(envOf(s, 'EDGEHUB_PROXY_REDIS_PASSWORD_FILE')).toBe('/run/secrets/proxy_redis_password')
    }
    for (const s of ['sentinel-1', 'sentinel-2', 'sentinel-3']) expect(secretsOf(s)).toEqual(['redis_password'])
    expect(secretsOf('haproxy')).toEqual([])
    expect(edgehub.redis.passwordFile).toBe('/run/secrets/hub_redis_password')
    expect(JSON.stringify(edgehub)).not.toMatch(/"password"/)
    for (const s of ['hub-1', 'hub-2', 'proxy-1', 'proxy-2'])
      expect(services[s].volumes.some((v: string) => v.endsWith(':/etc/edgehub/edgehub.yaml:ro'))).toBe(true)
  })

  it('haproxy -c accepts its haproxy.cfg', async () => {
    const out = await run('haproxy', ['-c', '-f', join(COMPOSE_DIR, 'haproxy.cfg')], {
      env: { ...process.env, HTTP_PORT: '8080' },
    })
    expect(out.stdout).toContain('Configuration file is valid')
  })

  it('its edgehub.yaml passes the hub’s config check', async () => {
    const r = await configCheck(join(COMPOSE_DIR, 'edgehub.yaml'))
    expect(r.output).toContain('configuration OK')
    expect(r.status).toBe(0)
  }, 120_000)
})

describe.skipIf(dockerSkipReason)('deploy/compose, brought up with host networking', () => {
  const project = `edgehub${process.pid}`
  const dir = join(scratch, 'compose')
  const ports: Record<string, number> = {}
  let env: Record<string, string> = {}
  let up = false

  beforeAll(async () => {
    const engine = await dockerEngine()
    await importComposeImages(engine.docker, scratch)
    // the shipped files, with only the host ports moved to free ones and publicUrl to HAProxy's
    cpSync(COMPOSE_DIR, dir, { recursive: true, filter: (src) => !src.includes('/secrets') })
    for (const p of [6379, 6380, 26379, 26380, 26381, 8081, 8082, 8000, 8001]) ports[p] = await freePort()
    const http = await freePort()
    for (const f of ['docker-compose.yml', 'edgehub.yaml', 'haproxy.cfg']) {
      let text = readFileSync(join(dir, f), 'utf8')
      for (const [from, to] of Object.entries(ports)) text = text.replace(new RegExp(`\\b${from}\\b`, 'g'), String(to))
      if (f === 'edgehub.yaml') text = text.replace(/^publicUrl: .*$/m, `publicUrl: http://127.0.0.1:${http}`)
      // the tests' engine, not the host's
      if (f === 'docker-compose.yml')
        text = text.replaceAll(
          '/var/run/docker.sock:/var/run/docker.sock',
          `${engine.host.replace('unix://', '')}:/var/run/docker.sock`,
        )
      writeFileSync(join(dir, f), text)
    }
    const services = Object.keys(parse(readFileSync(join(dir, 'docker-compose.yml'), 'utf8')).services)
    writeFileSync(
      join(dir, 'test-override.yml'),
      composeOverride(services, ['hub-1', 'hub-2', 'proxy-1', 'proxy-2'], ['haproxy']),
    )
    const secrets = spawnSync('sh', [join(dir, 'make-secrets.sh')], { encoding: 'utf8' })
    expect(secrets.status, secrets.stderr).toBe(0)
    env = { DOCKER_HOST: engine.host, DOCKER_GID: '0', HTTP_PORT: String(http), COMPOSE_PROJECT_NAME: project }
    const r = compose(['-f', 'docker-compose.yml', '-f', 'test-override.yml', 'up', '-d', '--no-build'], dir, env)
    up = true
    expect(r.status, `${r.stderr}`).toBe(0)
  }, 300_000)

  afterAll(() => {
    if (!up) return
    const r = compose(
      ['-f', 'docker-compose.yml', '-f', 'test-override.yml', 'down', '-v', '--timeout', '10'],
      dir,
      env,
    )
    if (r.status !== 0) console.error(`docker-compose down: ${r.stderr}`)
  }, 120_000)

  const logs = () =>
    compose(['-f', 'docker-compose.yml', '-f', 'test-override.yml', 'logs', '--no-color', '--tail', '15'], dir, env)
      .stdout

  it('make-secrets.sh wrote three passwords, in a folder only its owner reads', () => {
    expect(statSync(join(dir, 'secrets')).mode & 0o777).toBe(0o700)
    for (const s of ['redis_password', 'hub_redis_password', 'proxy_redis_password'])
      expect(readFileSync(join(dir, 'secrets', s), 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/)
  })

  it('every hub and proxy answers its health check, and the sentinels name the master', async () => {
    const healthy = async (url: string) => (await fetch(url).catch(() => undefined))?.status === 200
    await waitFor(
      'both hubs and both proxies healthy',
      async () =>
        (await healthy(`http://127.0.0.1:${ports[8081]}/hub/health`)) &&
        (await healthy(`http://127.0.0.1:${ports[8082]}/hub/health`)) &&
        (await healthy(`http://127.0.0.1:${ports[8000]}/_edgehub/proxy/health`)) &&
        (await healthy(`http://127.0.0.1:${ports[8001]}/_edgehub/proxy/health`)),
      { timeoutMs: 180_000, intervalMs: 500 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs()}`)
    })
    const master = await run('redis-cli', [
      '-p',
      String(ports[26379]),
      'SENTINEL',
      'get-master-addr-by-name',
      'edgehub',
    ])
    expect(master.stdout.split('\n').slice(0, 2)).toEqual(['127.0.0.1', String(ports[6379])])
    const proxyHealth = await json(await fetch(`http://127.0.0.1:${ports[8000]}/_edgehub/proxy/health`))
    expect(proxyHealth.redis).toBe('connected')
  }, 200_000)

  it('a user made in hub-1 logs in through HAProxy', async () => {
    const password = 'compose-stack-password-1'
    const exec = spawnSync(
      'docker-compose',
      [
        '-f',
        'docker-compose.yml',
        '-f',
        'test-override.yml',
        'exec',
        '-T',
        'hub-1',
        'node',
        '/opt/edgehub/node_modules/edgehub/bin/edgehub.js',
        'user',
        'add',
        'bob',
        '--admin',
        '--password-stdin',
      ],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env }, input: `${password}\n`, timeout: 120_000 },
    )
    expect(exec.status, `${exec.stderr}${exec.stdout}`).toBe(0)
    const client = new Client(`http://127.0.0.1:${env.HTTP_PORT}`)
    const res = await client.login('bob', password)
    expect(res.status).toBe(302)
    expect(client.jar.has('edgehub-session')).toBe(true)
    const me = await client.api('GET', '/user')
    expect(me.status).toBe(200)
    expect((await json(me)).name).toBe('bob')
  }, 200_000)
})
