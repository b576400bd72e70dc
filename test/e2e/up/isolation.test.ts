// One stack never uses another stack's parts: a second `edgehub up` on taken ports refuses before it
// starts anything, and a data directory that names another stack refuses that stack's Redis.
import { afterAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stackRedis } from '../../support/redis'
import { privateRedisDir, readRedisCredentials } from '../../../control-plane/src/protocol'
import { BIN, alive, cleanup, dataDir, descendants, loginAdmin, stackEnv, startServer, up } from './support'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'

afterAll(cleanup)

const run = (args: string[], env: Record<string, string>) => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))
  return spawnSync(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, encoding: 'utf8', timeout: 30_000 })
}

describe('edgehub up next to another stack', () => {
  it("refuses taken ports and another stack's Redis, and leaves the first stack untouched", async () => {
    const first = await up(await stackEnv(dataDir()))
    const admin = await loginAdmin(first)
    const serverPid = await startServer(first, admin)
    const redis = stackRedis(first.dir, first.redisPort)
    await redis.set('edgehub:test:marker', 'kept')
    const firstId = readFileSync(join(first.dir, 'stack-id'), 'utf8').trim()
    expect(await redis.get('edgehub:hub-id')).toBe(firstId)
    const parts = descendants(first.proc.pid!)

    // Same three ports, another data directory: each refused with the setting and the holder named.
    const otherDir = dataDir()
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      [
        'redis.port',
        { EDGEHUB_PORT: String(await freePort()), EDGEHUB_HUB_PORT: String(await freePort()) },
        /redis-server/,
      ],
      [
        'hub.port',
        { EDGEHUB_PORT: String(await freePort()), EDGEHUB_REDIS_PORT: String(await freePort()) },
        /edgehub\.js hub/,
      ],
      ['port', {}, /nginx: master/],
    ]
    for (const [setting, change, holder] of cases) {
      const env: Record<string, string> = { ...first.env, EDGEHUB_DATA_DIR: otherDir, ...change }
      const port = { 'redis.port': env.EDGEHUB_REDIS_PORT, 'hub.port': env.EDGEHUB_HUB_PORT, port: env.EDGEHUB_PORT }[
        setting
      ]!
      const t0 = Date.now()
      const second = await up(env, { expectExit: true })
      expect(await second.exit).toBe(1)
      const lines = second.output().trim().split('\n')
      expect(lines, second.output()).toHaveLength(1)
      expect(lines[0]).toContain(`port ${port} (${setting}) is in use by pid `)
      expect(lines[0]).toMatch(holder)
      console.log(`second stack on a taken ${setting}: refused in ${Date.now() - t0} ms: ${lines[0]}`)
    }
    // it started nothing, wrote nothing
    expect(() => readFileSync(join(otherDir, 'stack-id'))).toThrow()

    // Another data directory has no log-in for the first stack's Redis: the CLI is refused by Redis.
    const env = {
      EDGEHUB_DATA_DIR: otherDir,
      EDGEHUB_REDIS_PORT: String(first.redisPort),
      EDGEHUB_HUB_PORT: String(await freePort()),
    }
    const noLogin = run(['user', 'list'], env)
    expect(noLogin.status).not.toBe(0)
    expect(noLogin.stderr).toMatch(/NOAUTH|WRONGPASS/)
    // With the log-in (an operator copying the first stack's credentials), a data directory naming
    // another stack: the CLI and a hub still refuse the first stack's Redis.
    const hubLogin = readRedisCredentials(privateRedisDir(first.dir))!.hub
    mkdirSync(privateRedisDir(otherDir), { recursive: true, mode: 0o700 })
    copyFileSync(
      join(privateRedisDir(first.dir), 'credentials.json'),
      join(privateRedisDir(otherDir), 'credentials.json'),
    )
    writeFileSync(join(otherDir, 'stack-id'), 'another-stack\n')
    for (const args of [['user', 'add', 'mallory'], ['user', 'list'], ['hub']]) {
      const r = run(args, env)
      expect(r.status, `${args.join(' ')}: ${r.stdout}${r.stderr}`).not.toBe(0)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toContain(
        `belongs to another edgehub stack (its id ${firstId}, this data directory's another-stack`,
      )
    }
    // and `edgehub up` pointed at it with redis.url refuses before starting its hub or proxy
    const viaUrl = await up(
      {
        ...(await stackEnv(otherDir)),
        EDGEHUB_REDIS_URL: `redis://${hubLogin.username}:${hubLogin.password}@127.0.0.1:${first.redisPort}`,
      },
      { expectExit: true },
    )
    expect(await viaUrl.exit).toBe(1)
    expect(viaUrl.output()).toContain('belongs to another edgehub stack')
    expect(await redis.exists('edgehub:user:mallory')).toBe(0)

    // A fresh data directory (no stack-id) pointed at the first stack's Redis with redis.url: refused
    // too, before it could adopt that stack's id (its shutdown would then stop the first stack's servers)
    const freshDir = dataDir()
    const fresh = await up(
      {
        ...(await stackEnv(freshDir)),
        EDGEHUB_REDIS_URL: `redis://${hubLogin.username}:${hubLogin.password}@127.0.0.1:${first.redisPort}`,
      },
      { expectExit: true },
    )
    expect(await fresh.exit).toBe(1)
    expect(fresh.output()).toContain(
      `already belongs to an edgehub stack (id ${firstId}) that this data directory does not know`,
    )
    expect(() => readFileSync(join(freshDir, 'stack-id'))).toThrow()

    // The first stack: every process still there, its data intact, its server answering.
    expect(parts.every(alive)).toBe(true)
    expect(alive(serverPid)).toBe(true)
    expect(await redis.get('edgehub:test:marker')).toBe('kept')
    expect((await admin.get('/user/admin/api/status')).status).toBe(200)
    expect((await admin.api('GET', '/user')).status).toBe(200)
    redis.disconnect()

    first.proc.kill('SIGTERM')
    expect(await first.exit).toBe(0)
    await waitFor('every process of the first stack to be gone', () => [...parts, serverPid].every((p) => !alive(p)), {
      timeoutMs: 10_000,
    })
  })
})
