// What the users listing reads instead of every user's record, against a real Redis: the names from
// a replica's copy that follows changes made by other replicas, a search ignoring case with its
// text taken literally, every listed user's last_activity in one call, and the users with active
// or running servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testRedis } from '../../../test/support/redis'
import { keyNames } from './keys'
import { ProxyTables } from './proxy-tables'
import { Users } from './users'
import { Servers } from './servers'

let redis: Awaited<ReturnType<typeof testRedis>>
const keys = keyNames('listing-test:')
let users: Users
let servers: Servers
const NAMES = ['ann', 'Bea', 'x*y', 'x?y', 'xzy', 'a[b]c', 'abc', 'back\\slash', 'zoë']

beforeAll(async () => {
  redis = await testRedis()
  users = new Users(redis.client, keys, new ProxyTables(redis.client, keys.prefix))
  servers = new Servers(redis.client, keys)
  for (const n of NAMES) await users.create(n)
  await users.touch('abc', new Date('2026-05-01T00:00:00.000Z'))
  // abc running, ann pending: both active, only abc ready
  const r = redis.client
  await r.hset(keys.server('abc', ''), 'state', 'running')
  await r.hset(keys.server('ann', 'gpu'), 'state', 'pending')
  await r.sadd(keys.runningServers, 'abc/', 'ann/gpu')
})
afterAll(async () => {
  await redis?.stop()
})

describe('the users listing', () => {
  it('searches ignoring case, with the text taken literally', async () => {
    expect(await users.search('a')).toEqual(['Bea', 'a[b]c', 'abc', 'ann', 'back\\slash'])
    expect(await users.search('BE')).toEqual(['Bea'])
    expect(await users.search('x*y')).toEqual(['x*y'])
    expect(await users.search('x?y')).toEqual(['x?y'])
    expect(await users.search('[b]')).toEqual(['a[b]c'])
    expect(await users.search('k\\s')).toEqual(['back\\slash'])
    expect(await users.search('zoë')).toEqual(['zoë'])
    expect(await users.search('nobody')).toEqual([])
  })

  it("follows another replica's creations, removals and renames", async () => {
    const other = new Users(redis.client, keys, new ProxyTables(redis.client, keys.prefix))
    const before = await users.allNames()
    expect(await users.allNames()).toBe(before) // unchanged: the same copy
    await other.create('zed')
    expect(await users.search('zed')).toEqual(['zed'])
    await other.rename('zed', 'zack')
    expect(await users.search('za')).toEqual(['zack'])
    await other.remove('zack')
    expect(await users.allNames()).toEqual(before)
  })

  it("reads each listed user's last activity in one call, null where none or gone", async () => {
    expect(await users.lastActivities(['abc', 'ann', 'gone'])).toEqual(['2026-05-01T00:00:00.000Z', null, null])
    expect(await users.lastActivities([])).toEqual([])
  })

  it('knows the users with an active server, and those with a running one', async () => {
    expect([...(await servers.activeUsers())].sort()).toEqual(['abc', 'ann'])
    expect([...(await servers.activeUsers({ ready: true }))]).toEqual(['abc'])
  })
})
