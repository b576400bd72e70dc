// UserBundles against a real Redis: a page's users read in one script call, in the page's order,
// with nothing in them that a model does not show (password hashes, server tokens, spawner state).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testRedis } from '../../../test/support/redis'
import { keyNames } from './keys'
import { UserBundles } from './user-bundles'

let redis: Awaited<ReturnType<typeof testRedis>>
const keys = keyNames('bundles-test:')
let bundles: UserBundles

beforeAll(async () => {
  redis = await testRedis()
  bundles = new UserBundles(redis.client, keys)
  const r = redis.client
  await r.hset(keys.user('ann'), {
    name: 'ann',
    admin: '1',
    approved: '1',
    created: '2026-01-01T00:00:00.000Z',
    last_activity: '2026-02-01T00:00:00.000Z',
    password: 'scrypt$secret-hash',
  })
  await r.sadd(keys.userGroups('ann'), 'physics', 'chemistry')
  await r.sadd(keys.userServers('ann'), 'gpu', '', 'gone')
  await r.hset(keys.server('ann', ''), {
    state: 'running',
    started: '2026-03-01T00:00:00.000Z',
    token: 'server-secret-token',
    spawner: '{"pid":4242}',
    log: 'spawn log line',
    user_options: '{"profile":"small"}',
  })
  await r.hset(keys.server('ann', 'gpu'), {
    state: 'stopped',
    stopped: '2026-03-02T00:00:00.000Z',
    token: 'gpu-secret-token',
  })
  // "gone": named in the set but without a record (removed meanwhile): left out
  await r.hset(keys.activity, 'ann/', String(Date.parse('2026-03-03T00:00:00.000Z')))
  // a user name with the characters Lua patterns and key heads could trip on
  await r.hset(keys.user('b.o%b/1'), {
    name: 'b.o%b/1',
    admin: '0',
    approved: '0',
    created: '2026-01-02T00:00:00.000Z',
  })
})
afterAll(async () => {
  await redis?.stop()
})

describe('UserBundles', () => {
  it('reads each user of the page in its order and leaves out users that do not exist', async () => {
    const out = await bundles.read(['b.o%b/1', 'nobody', 'ann'])
    expect(out.map((b) => b.user.name)).toEqual(['b.o%b/1', 'ann'])
    expect(out[0]).toEqual({
      user: { name: 'b.o%b/1', admin: false, approved: false, created: '2026-01-02T00:00:00.000Z', lastActivity: null },
      groups: [],
      servers: [],
      seen: new Map(),
    })
    const ann = out[1]
    expect(ann.user).toEqual({
      name: 'ann',
      admin: true,
      approved: true,
      created: '2026-01-01T00:00:00.000Z',
      lastActivity: '2026-02-01T00:00:00.000Z',
    })
    expect(ann.groups).toEqual(['chemistry', 'physics'])
    expect(ann.servers.map((s) => [s.name, s.state, s.started, s.userOptions])).toEqual([
      ['', 'running', '2026-03-01T00:00:00.000Z', { profile: 'small' }],
      ['gpu', 'stopped', null, null],
    ])
    expect(ann.seen).toEqual(new Map([['', Date.parse('2026-03-03T00:00:00.000Z')]]))
  })

  it('never reads password hashes, server tokens, spawner state or spawn logs', async () => {
    const text = JSON.stringify(await bundles.read(['ann']))
    for (const secret of ['scrypt$secret-hash', 'server-secret-token', 'gpu-secret-token', '4242', 'spawn log line'])
      expect(text).not.toContain(secret)
  })

  it('answers an empty page without asking Redis', async () => {
    expect(await bundles.read([])).toEqual([])
  })
})
