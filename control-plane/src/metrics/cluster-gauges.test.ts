// The cluster-wide gauges read from Redis: exact counts of servers and users by last activity, and
// left out entirely on a replica that is not the leader (so a sum or max over replicas stays right).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testRedis } from '../../../test/support/redis'
import { keyNames } from '../state/keys'
import { ProxyTables } from '../state/proxy-tables'
import { Users } from '../state/users'
import type { Leadership } from '../jobs/leader'
import { HubMetrics } from './hub-metrics'
import { ClusterGauges } from './cluster-gauges'

let redis: Awaited<ReturnType<typeof testRedis>>
const keys = keyNames('edgehub:')
const now = Date.parse('2026-12-07T12:00:00Z')
const ago = (ms: number) => new Date(now - ms).toISOString()

beforeAll(async () => {
  redis = await testRedis()
  const r = redis.client
  await r.zadd(keys.users, 0, 'ada', 0, 'bob', 0, 'cy', 0, 'dee')
  await r.hset(keys.user('ada'), 'last_activity', ago(30 * 60_000)) // 30 minutes
  await r.hset(keys.user('bob'), 'last_activity', ago(3 * 86_400_000)) // 3 days
  await r.hset(keys.user('cy'), 'last_activity', ago(40 * 86_400_000)) // 40 days: none of the periods
  await r.hset(keys.user('dee'), 'name', 'dee') // never active
  await r.sadd(keys.runningServers, 'ada/', 'bob/gpu')
  await r.zadd(keys.pendingSpawns, now + 60_000, 'bob/gpu', now - 1, 'cy/') // cy's entry has run out
  await r.hset(keys.proxyTable('routes'), '/user/ada/', '{}', '/user/bob/gpu/', '{}')
  await r.set(keys.proxyVersion, '17')
}, 60_000)
afterAll(async () => redis?.stop())

const leadership = (leader: boolean): Leadership => ({ id: 'r1', isLeader: () => leader, stop: async () => {} })

async function scrape(leader: boolean): Promise<string> {
  const m = new HubMetrics()
  const users = new Users(redis.client, keys, new ProxyTables(redis.client, keys.prefix))
  await new ClusterGauges({ redis: redis.client, keys, users }, m, leadership(leader)).collect(now)
  return m.registry.metrics()
}

describe('cluster-wide gauges', () => {
  it('on the leader: servers, spawns, users and active users per period, exactly', async () => {
    const text = await scrape(true)
    expect(text).toContain('\njupyterhub_running_servers 2\n')
    expect(text).toContain('\nedgehub_pending_spawns 1\n')
    expect(text).toContain('\njupyterhub_total_users 4\n')
    expect(text).toContain('jupyterhub_active_users{period="1h"} 1\n')
    expect(text).toContain('jupyterhub_active_users{period="24h"} 1\n')
    expect(text).toContain('jupyterhub_active_users{period="7d"} 2\n')
    expect(text).toContain('jupyterhub_active_users{period="30d"} 2\n')
    expect(text).toContain('\nedgehub_proxy_routes 2\n')
    expect(text).toContain('\nedgehub_proxy_table_version 17\n')
    expect(text).toContain('\nedgehub_hub_leader 1\n')
    expect(text).toContain('\nedgehub_redis_up 1\n')
  })

  it('on another replica: left out, with its own gauges still there', async () => {
    const text = await scrape(false)
    for (const name of [
      'jupyterhub_running_servers',
      'jupyterhub_total_users',
      'jupyterhub_active_users',
      'edgehub_proxy_routes',
    ])
      expect(text).not.toContain(name)
    expect(text).toContain('\nedgehub_hub_leader 0\n')
    expect(text).toContain('\nedgehub_redis_up 1\n')
  })
})
