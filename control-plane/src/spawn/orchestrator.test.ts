// Spawn orchestration with the real local-process spawner and real Redis, using small commands
// that misbehave on purpose.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildDeps, type Deps } from '../deps'
import { loadConfig } from '../config/load'
import { createLogger } from '../../../runtime/src/log'
import { testRedis } from '../../../test/support/redis'
import { SpawnFailed } from '../../../runtime/src/errors'
import { waitFor } from '../../../runtime/src/wait'
import { isRoot, removeAccounts, testPrefix } from '../../../test/support/accounts'

let redis: Awaited<ReturnType<typeof testRedis>>
const dir = mkdtempSync(join(tmpdir(), 'edgehub-orch-'))
// as root, servers run as accounts the spawner makes: this file's own, removed at the end
const prefix = testPrefix()

beforeAll(async () => {
  redis = await testRedis()
})
afterAll(async () => {
  await redis?.stop()
  rmSync(dir, { recursive: true, force: true })
  if (isRoot) expect(removeAccounts(prefix)).toEqual([])
})

async function depsWith(command: string[], spawner: Record<string, number | boolean> = {}): Promise<Deps> {
  const f = join(dir, `${Math.random()}.yaml`)
  writeFileSync(
    f,
    JSON.stringify({
      dataDir: dir,
      redis: { url: redis.url },
      hub: { slowSpawnTimeoutSec: 30 },
      spawner: { ...spawner, 'local-process': { command, args: [], userPrefix: prefix } },
    }),
  )
  const { config } = loadConfig({ file: f, env: {} })
  return buildDeps(config, { log: createLogger('test', { level: 'error' }) })
}

async function failure(d: Deps, user: string): Promise<SpawnFailed> {
  await d.users.create(user)
  const err = await d.orchestrator.start(user, '').catch((e: unknown) => e)
  expect(err).toBeInstanceOf(SpawnFailed)
  return err as SpawnFailed
}

describe('Orchestrator.start', () => {
  it('fails with the end of the log when the server exits while starting', async () => {
    const d = await depsWith(['sh', '-c', 'echo "no such notebook dir" >&2; exit 3'])
    const err = await failure(d, 'exits')
    expect(err.message).toContain('the server exited while starting')
    const rec = (await d.servers.get('exits', ''))!
    expect(rec.state).toBe('stopped')
    expect(rec.failed).toBe(true)
    expect(await d.tables.get('routes', '/user/exits/')).toBeUndefined()
    await d.close()
  })

  it('stops a server that never answers HTTP and says which timeout passed', async () => {
    const d = await depsWith(['sleep', '60'], { httpTimeoutSec: 0.5 })
    const err = await failure(d, 'silent')
    expect(err.message).toBe('the server did not answer HTTP within 0.5 s')
    const events = await redis.client.xrange('edgehub:progress:silent/', '-', '+')
    const last = JSON.parse(events[events.length - 1][1][1])
    expect(last).toMatchObject({ failed: true, message: 'Spawn failed: the server did not answer HTTP within 0.5 s' })
    expect(await redis.client.smembers('edgehub:active-servers')).not.toContain('silent/')
    await d.close()
  })

  it('gives up after startTimeoutSec', async () => {
    const d = await depsWith(['sleep', '60'], { startTimeoutSec: 0.5, httpTimeoutSec: 30 })
    const err = await failure(d, 'slow')
    expect(err.message).toBe('the server did not start within 0.5 s')
    await d.close()
  })

  it('refuses a second start while one is in progress', async () => {
    const d = await depsWith(['sleep', '60'], { httpTimeoutSec: 2 })
    await d.users.create('twice')
    const first = d.orchestrator.start('twice', '').catch((e: unknown) => e)
    await waitFor('the first start to be pending', async () => (await d.servers.get('twice', ''))?.state === 'pending')
    await expect(d.orchestrator.start('twice', '')).rejects.toThrow('is already being started or stopped')
    expect(await first).toBeInstanceOf(SpawnFailed)
    await d.close()
  })
})

describe('Orchestrator.sweepOrphans', () => {
  /** A server this hub's mark names but no record owns (a replica died between starting and recording it). */
  const orphan = async (d: Deps, user: string) => {
    const state = await d.spawner.start(
      {
        user,
        server: '',
        baseUrl: `/user/${user}/`,
        options: {},
        logFile: join(dir, `${user}.log`),
        env: { EDGEHUB_HUB_ID: d.hubId, JUPYTERHUB_USER: user, JUPYTERHUB_SERVER_NAME: '' },
        progress: () => {},
      },
      new AbortController().signal,
    )
    await waitFor('the orphan to be listed', async () =>
      (await d.spawner.list!(d.hubId)).some((s) => d.spawner.instanceKey(s.state) === d.spawner.instanceKey(state)),
    )
    return state
  }

  it('stops servers no record owns by default', async () => {
    const d = await depsWith(['sleep', '60'])
    const state = await orphan(d, 'orphan1')
    expect(await d.orchestrator.sweepOrphans()).toBe(1)
    expect((await d.spawner.poll(state)).phase).toBe('stopped')
    await d.close()
  })

  it('leaves them running with spawner.removeOrphans false', async () => {
    const d = await depsWith(['sleep', '60'], { removeOrphans: false })
    const state = await orphan(d, 'orphan2')
    expect(await d.orchestrator.sweepOrphans()).toBe(0)
    expect(await d.orchestrator.sweepOrphans()).toBe(0)
    expect((await d.spawner.poll(state)).phase).toBe('running')
    await d.spawner.stop(state, { graceMs: 1000 })
    await d.close()
  })
})
