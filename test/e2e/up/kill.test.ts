// The supervisor keeps every part alive: kill -9 of the hub, of Redis and of the nginx master of a
// real `edgehub up`, each under a steady stream of requests to a user's server and to the hub API,
// both through the proxy. Prints the measured figures.
import { afterAll, describe, expect, it } from 'vitest'
import { stackRedis } from '../../support/redis'
import {
  alive,
  cleanup,
  dataDir,
  loginAdmin,
  partPid,
  stackEnv,
  startServer,
  stream,
  up,
  type Sample,
  type Up,
} from './support'
import { groupMembers } from '../../../runtime/src/child'
import { json } from '../../support/client'
import { waitFor } from '../../../runtime/src/wait'

afterAll(cleanup)

/** When the supervisor logged msg (the first time after `after`), from its JSON log line. */
function loggedAt(u: Up, msg: string, after: number): number | undefined {
  for (const line of u.output().split('\n')) {
    if (!line.startsWith('{') || !line.includes(`"msg":"${msg}"`)) continue
    const at = Date.parse(JSON.parse(line).time)
    if (at >= after) return at
  }
  return undefined
}

const failures = (samples: Sample[]) => samples.filter((s) => s.status !== 200)
/** End of the first 200 answer to a request sent after `after`. */
const firstOkAfter = (samples: Sample[], after: number) => samples.find((s) => s.at > after && s.status === 200)

describe('edgehub up under kill -9', () => {
  it('restarts the hub, Redis and the proxy; servers keep answering; nothing is lost', async () => {
    const u = await up(await stackEnv(dataDir()))
    const sup = u.proc.pid!
    const admin = await loginAdmin(u)
    const serverPid = await startServer(u, admin)
    const token = (await json(await admin.api('POST', '/users/admin/tokens', { note: 'load' }))).token as string
    const auth = { authorization: `token ${token}` }
    const server = stream(`${u.url}/user/admin/api/status`, auth)
    const hubApi = stream(`${u.url}/hub/api/user`, auth)
    await waitFor(
      'both streams to be answered',
      () => server.samples.some((s) => s.status === 200) && hubApi.samples.some((s) => s.status === 200),
    )
    const figures: string[] = []

    // The hub: restarted at once; servers never notice.
    const hubPid = partPid(sup, 'edgehub.js hub')!
    let t0 = Date.now()
    process.kill(hubPid, 'SIGKILL')
    const hubBack = await waitFor('the hub API to answer again', () => firstOkAfter(hubApi.samples, t0), {
      timeoutMs: 20_000,
      intervalMs: 20,
    })
    const hubDown = hubBack.at + hubBack.ms - t0
    await waitFor('a second of requests after', () => Date.now() > hubBack.at + 1000)
    const hubFailed = failures(server.between(t0, Date.now()))
    figures.push(
      `hub kill -9: hub API back after ${hubDown} ms; server requests ${server.between(t0, Date.now()).length}, failed ${hubFailed.length}`,
    )
    expect(partPid(sup, 'edgehub.js hub')).not.toBe(hubPid)

    // Redis: a user created through the API and a key written just before the kill are there after.
    expect((await admin.api('POST', '/users/before-redis-kill')).status).toBe(201)
    const redisPid = partPid(sup, 'redis-server')!
    const direct = stackRedis(u.dir, u.redisPort, {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    })
    direct.on('error', () => {})
    await direct.connect()
    await direct.set('edgehub:test:before-kill', 'kept') // written to the AOF file before Redis replies
    direct.disconnect()
    t0 = Date.now()
    process.kill(redisPid, 'SIGKILL')
    await waitFor('the supervisor to restart Redis', () => loggedAt(u, 'redis restarted', t0), { timeoutMs: 20_000 })
    const redisBackAt = loggedAt(u, 'redis restarted', t0)!
    const apiBack = await waitFor('the hub API to answer again', () => firstOkAfter(hubApi.samples, redisBackAt), {
      timeoutMs: 20_000,
      intervalMs: 20,
    })
    await waitFor('a second of requests after', () => Date.now() > apiBack.at + 1000)
    const outage = hubApi.between(t0, redisBackAt)
    const slowest = Math.max(0, ...outage.map((s) => s.ms))
    const redisFailed = failures(server.between(t0, Date.now()))
    const hubAfterRedis = apiBack.at + apiBack.ms - redisBackAt
    figures.push(
      `Redis kill -9: back after ${redisBackAt - t0} ms; hub API back ${hubAfterRedis} ms after Redis (answers during the outage: ${[...new Set(outage.map((s) => s.status))].join(',') || 'none'}, slowest ${slowest} ms); server requests ${server.between(t0, Date.now()).length}, failed ${redisFailed.length}`,
    )
    const check = stackRedis(u.dir, u.redisPort)
    expect(await check.get('edgehub:test:before-kill')).toBe('kept')
    check.disconnect()
    expect((await admin.api('GET', '/users/before-redis-kill')).status).toBe(200)

    // The proxy: nginx's workers outlive their master and keep the port; the supervisor kills them
    // and starts a new proxy, which syncs the routes again.
    const masterPid = partPid(sup, 'nginx: master')!
    t0 = Date.now()
    process.kill(masterPid, 'SIGKILL')
    await waitFor('the supervisor to restart the proxy', () => loggedAt(u, 'proxy restarted', t0), {
      timeoutMs: 20_000,
    })
    await waitFor('a second of requests after', () => Date.now() > loggedAt(u, 'proxy restarted', t0)! + 1000)
    const during = server.between(t0, Date.now())
    const lastFailure = failures(during).at(-1)
    const servingAgain = lastFailure ? firstOkAfter(server.samples, lastFailure.at)! : undefined
    const proxyDown = servingAgain ? servingAgain.at + servingAgain.ms - t0 : 0
    figures.push(
      `proxy (nginx master) kill -9: serving again after ${proxyDown} ms (failed requests ${failures(during).length} of ${during.length})`,
    )
    expect(groupMembers(masterPid)).toEqual([]) // no orphaned worker of the killed master
    expect(partPid(sup, 'nginx: master')).not.toBe(masterPid)
    expect((await admin.get('/user/admin/api/status')).status).toBe(200) // the route, through the new proxy
    expect(alive(serverPid)).toBe(true)

    await Promise.all([server.stop(), hubApi.stop()])
    console.log(figures.join('\n'))
    expect(hubDown).toBeLessThanOrEqual(3000)
    expect(hubFailed).toEqual([])
    expect(hubAfterRedis).toBeLessThanOrEqual(3000)
    expect(redisFailed).toEqual([])
    expect(proxyDown).toBeLessThanOrEqual(2000)

    u.proc.kill('SIGTERM')
    expect(await u.exit).toBe(0)
    expect(alive(serverPid)).toBe(false)
  })
})
