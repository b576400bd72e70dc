// The `edgehub` command against a real Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BIN } from '../../support/stack'
import { testRedis } from '../../support/redis'
import { tokenDigest } from '../../../control-plane/src/protocol'

let redis: Awaited<ReturnType<typeof testRedis>>
const dir = mkdtempSync(join(tmpdir(), 'edgehub-cli-'))

function edgehub(args: string[], input?: string) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input,
    encoding: 'utf8',
    env: { ...env, EDGEHUB_REDIS_URL: redis.url, EDGEHUB_DATA_DIR: dir, EDGEHUB_AUTH_NATIVE_SCRYPT_COST: '1024' },
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

beforeAll(async () => {
  redis = await testRedis()
})
afterAll(async () => {
  await redis?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('edgehub config check', () => {
  it('exits 2 with one line naming a mistyped key', () => {
    const f = join(dir, 'typo.yaml')
    writeFileSync(f, 'spawner:\n  kind: local-process\n  startTimeot: 5\n')
    const r = edgehub(['config', 'check', '--config', f])
    expect(r.code).toBe(2)
    expect(r.err).toContain('spawner.startTimeot: unknown setting')
    expect(r.err.trim().split('\n')).toHaveLength(2)
  })

  it('prints the effective configuration when it is valid', () => {
    const r = edgehub(['config', 'check'])
    expect(r.code).toBe(0)
    expect(r.out).toContain('configuration OK')
  })

  it('prints no secret of the configuration: passwords, tokens, client secrets and URL passwords are hidden', () => {
    const f = join(dir, 'secrets.yaml')
    writeFileSync(
      f,
      [
        'auth:',
        '  kind: dummy',
        '  dummy: { password: dummy-pass-3141 }',
        'services:',
        '  - { name: grader, url: "http://127.0.0.1:9000", apiToken: service-token-2718-aaaaaaaaaaaaaaaaaaaaaaaa }',
        'oidc:',
        '  clients:',
        '    - { clientId: app, clientSecret: client-secret-1618-aaaaaaaaaaaaaaaaaaaaaaa, redirectUris: ["http://127.0.0.1:9001/cb"] }',
        '',
      ].join('\n'),
    )
    const env = { EDGEHUB_REDIS_URL: 'redis://edgehub-hub:redis-pass-1414@127.0.0.1:6379/0' }
    const r = spawnSync(process.execPath, [BIN, 'config', 'check', '--config', f], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ...env },
    })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    for (const secret of ['dummy-pass-3141', 'service-token-2718', 'client-secret-1618', 'redis-pass-1414'])
      expect(r.stdout).not.toContain(secret)
    expect(r.stdout).toContain('redis://edgehub-hub:[hidden]@127.0.0.1:6379/0')
    expect(r.stdout).toContain('"clientId": "app"')
  })
})

describe('edgehub user and token', () => {
  it('adds an admin with a password from stdin and lists users', async () => {
    const r = edgehub(['user', 'add', 'Grace', '--admin', '--password-stdin'], 'grace-password\n')
    expect(r.err).toBe('')
    expect(r.out).toBe('created user grace (admin)\n')
    expect(await redis.client.hget('edgehub:user:grace', 'admin')).toBe('1')
    expect(edgehub(['user', 'list']).out).toContain('grace\tadmin\tstopped')
  })

  it('refuses a duplicate or invalid name with a message and exit 1', () => {
    edgehub(['user', 'add', 'hopper'])
    const dup = edgehub(['user', 'add', 'hopper'])
    expect(dup.code).toBe(1)
    expect(dup.err).toBe('edgehub: user hopper already exists\n')
    const bad = edgehub(['user', 'add', 'a/b'])
    expect(bad.code).toBe(1)
    expect(bad.err).toBe('edgehub: invalid user name: the name contains "/"\n')
  })

  it('issues a token that is stored only as its digest', async () => {
    edgehub(['user', 'add', 'lin'])
    const r = edgehub(['token', 'issue', 'lin', '--expires-in', '3600', '--note', 'ci'])
    expect(r.code).toBe(0)
    const token = r.out.trim()
    expect(token).toMatch(/^[\w-]{32}$/)
    const entry = JSON.parse((await redis.client.hget('edgehub:proxy:tokens', tokenDigest(token)))!)
    expect(entry.user).toBe('lin')
    expect(entry.expires_at).toBeGreaterThan(Date.now() / 1000 + 3500)
    const dump =
      JSON.stringify(await redis.client.keys('*')) + JSON.stringify(await redis.client.hgetall('edgehub:proxy:tokens'))
    expect(dump).not.toContain(token)
  })

  it('refuses a token for an unknown user', () => {
    const r = edgehub(['token', 'issue', 'ghost'])
    expect(r.code).toBe(1)
    expect(r.err).toBe('edgehub: user ghost not found\n')
  })
})

describe('edgehub proxy', () => {
  it('runs one proxy replica from the shared config, reloads on SIGHUP and stops on SIGTERM', async () => {
    const { spawn } = await import('node:child_process')
    const { freePort } = await import('../../../runtime/src/ports')
    const { waitFor } = await import('../../../runtime/src/wait')
    const port = await freePort()
    const runDir = join(dir, 'proxy-replica')
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))
    const child = spawn(process.execPath, [BIN, 'proxy'], {
      env: {
        ...env,
        EDGEHUB_REDIS_URL: redis.url,
        EDGEHUB_DATA_DIR: dir,
        EDGEHUB_PORT: String(port),
        EDGEHUB_PROXY_RUN_DIR: runDir,
        EDGEHUB_PROXY_WORKERS: '1',
      },
      stdio: 'ignore',
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    let nginxPid: number | undefined
    try {
      const health = async () =>
        (await fetch(`http://127.0.0.1:${port}/_edgehub/proxy/health`).catch(() => null))?.status
      await waitFor('the proxy to sync', async () => (await health()) === 200, { timeoutMs: 20_000 })
      const { readFileSync } = await import('node:fs')
      const pid = Number(readFileSync(join(runDir, 'nginx.pid'), 'utf8'))
      nginxPid = pid
      // nginx logs "signal 1 (SIGHUP) received from PID, reconfiguring" once per reload
      const reloads = () =>
        readFileSync(join(runDir, 'logs', 'error.log'), 'utf8').split('(SIGHUP) received').length - 1
      // at once, as soon as the proxy serves; and every SIGHUP reloads, not only the first
      child.kill('SIGHUP')
      await waitFor('a reload', async () => reloads() === 1, { timeoutMs: 10_000 })
      child.kill('SIGHUP')
      await waitFor('a second reload', async () => reloads() === 2, { timeoutMs: 10_000 })
      expect(await health()).toBe(200)
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(() => process.kill(pid, 0)).toThrow() // nginx stopped with it
      nginxPid = undefined
    } finally {
      child.kill('SIGKILL')
      // a failed run must not leave its nginx behind (unset once it is seen gone)
      if (nginxPid) {
        try {
          process.kill(nginxPid, 'SIGTERM') // nginx's fast shutdown stops its workers too
        } catch {
          // already gone
        }
      }
    }
  }, 40_000)
})
