// Activity recording: every request through a user or service route is noted per worker and
// max-merged into the Redis hash P activity each activityFlushSec (1 s here). One worker, so a
// request followed by another that shows up in Redis proves the first one was flushed too.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { waitFor } from '../../runtime/src/wait'
import { http, PREFIX, startFakeServer, startStack, userRoute, type FakeServer, type Stack } from './harness'

const HASH = `${PREFIX}activity`

let stack: Stack
let server: FakeServer
let deadTarget: string

const asUser = (user: string, path: string) =>
  http(stack.proxy.url + path, { headers: { cookie: `edgehub-session=${stack.cookie(user)}` } })
const field = async (key: string) => {
  const v = await stack.client.hget(HASH, key)
  return v === null ? null : Number(v)
}
/** Waits until field is at least min (epoch ms) and returns it. */
const flushedAtLeast = (key: string, min: number, timeoutMs = 5000) =>
  waitFor(
    `${key} >= ${min} in ${HASH}`,
    async () => {
      const v = await field(key)
      return v !== null && v >= min ? v : null
    },
    { timeoutMs },
  )
/** A request as `probe` whose activity reaches Redis: every earlier request's activity has been flushed too. */
async function flushProof() {
  const t = Date.now()
  expect((await asUser('probe', '/user/probe/')).status).toBe(200)
  return flushedAtLeast('probe/', t - 50)
}
/** Resolves once the access log has a line for uri with status (the request's log phase has run). */
const loggedWith = (uri: string, status: number) =>
  waitFor(`access log line for ${uri} ${status}`, () =>
    readFileSync(stack.proxy.accessLog, 'utf8')
      .split('\n')
      .some((l) => l.includes(`"uri":"${uri}"`) && l.includes(`"status":${status},`)),
  )

function openSocket(user: string, path: string): Promise<WebSocket> {
  const ws = new WebSocket(stack.proxy.url.replace('http:', 'ws:') + path, {
    headers: { cookie: `edgehub-session=${stack.cookie(user)}` },
  })
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve(ws))
    ws.on('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)))
    ws.on('error', reject)
  })
}

beforeAll(async () => {
  stack = await startStack({ proxy: { workerProcesses: 1, activityFlushSec: 1 } })
  server = await startFakeServer('srv')
  const dead = await startFakeServer('dead')
  deadTarget = dead.target
  await dead.close()
  const t = server.target
  await stack.tables.apply([
    { table: 'routes', key: '/user/ada/', value: userRoute('ada', t, 's') },
    { table: 'routes', key: '/user/ada/gpu/', value: userRoute('ada', t, 's', 'gpu') },
    { table: 'routes', key: '/user/bob/', value: userRoute('bob', t, 's') },
    { table: 'routes', key: '/user/carol/', value: userRoute('carol', t, 's') },
    { table: 'routes', key: '/user/eve/', value: userRoute('eve', deadTarget, 's') },
    { table: 'routes', key: '/user/probe/', value: userRoute('probe', t, 's') },
    { table: 'routes', key: '/services/grader/', value: { kind: 'service', name: 'grader', target: t, token: 's' } },
    { table: 'routes', key: '/services/anon/', value: { kind: 'service', target: t, token: 's' } },
  ])
  const v = await stack.tables.version()
  await waitFor(
    'proxy synced',
    async () => (await http(`${stack.proxy.url}/_edgehub/proxy/health`)).json().version === v,
  )
})

afterAll(async () => {
  await stack?.stop()
  await server?.close()
})

describe('proxy activity', () => {
  it('records a request to a user route as "<user>/<server>" in epoch ms', async () => {
    const t = Date.now()
    expect((await asUser('ada', '/user/ada/lab')).status).toBe(200)
    const v = await flushedAtLeast('ada/', t - 50)
    expect(v).toBeLessThanOrEqual(Date.now())
    expect(await stack.client.hget(HASH, 'ada/')).toMatch(/^\d+$/)

    expect((await asUser('ada', '/user/ada/gpu/api/status')).status).toBe(200)
    await flushedAtLeast('ada/gpu', t - 50)
  })

  it('raises the value on a later request', async () => {
    expect((await asUser('ada', '/user/ada/')).status).toBe(200)
    const v1 = await flushedAtLeast('ada/', Date.now() - 1000)
    await waitFor('a second later', () => Date.now() >= v1 + 1000, { timeoutMs: 3000 })
    expect((await asUser('ada', '/user/ada/tree')).status).toBe(200)
    await flushedAtLeast('ada/', v1 + 1000)
  })

  it('records named services as "service:<name>" and skips services without a name', async () => {
    const t = Date.now()
    expect((await asUser('bob', '/services/grader/x')).status).toBe(200)
    expect((await asUser('bob', '/services/anon/x')).status).toBe(200)
    await flushedAtLeast('service:grader', t - 50)
    await flushProof()
    expect(Object.keys(await stack.client.hgetall(HASH)).filter((k) => k.startsWith('service:'))).toEqual([
      'service:grader',
    ])
  })

  it("does not touch ada's field for other users' requests, even ones refused on ada's route", async () => {
    await flushProof()
    const before = await field('ada/')
    expect(before).not.toBeNull()
    expect((await asUser('bob', '/user/ada/')).status).toBe(403)
    expect((await http(`${stack.proxy.url}/user/ada/api/x`)).status).toBe(401)
    const t = Date.now()
    expect((await asUser('bob', '/user/bob/')).status).toBe(200)
    await flushedAtLeast('bob/', t - 50)
    await flushProof()
    expect(await field('ada/')).toBe(before)
  })

  it('does not lower a larger value already in Redis', async () => {
    const later = Date.now() + 3_600_000
    await stack.client.hset(HASH, 'ada/', String(later))
    expect((await asUser('ada', '/user/ada/')).status).toBe(200)
    await flushProof()
    expect(await field('ada/')).toBe(later)
  })

  it('keeps an open WebSocket active without traffic, and stops when it closes', async () => {
    const path = '/user/carol/api/kernels/k1/channels'
    const ws = await openSocket('carol', path)
    try {
      const first = await flushedAtLeast('carol/', Date.now() - 1000)
      // no messages: the open connection alone moves the value on every flush
      await flushedAtLeast('carol/', first + 2000, 10_000)
    } finally {
      ws.close()
    }
    await loggedWith(path, 101)
    await flushProof()
    const last = await field('carol/')
    await flushProof()
    await flushProof()
    expect(await field('carol/')).toBe(last)
  })

  it('does not count a WebSocket whose server is down as open', async () => {
    const path = '/user/eve/api/kernels/k1/channels'
    await expect(openSocket('eve', path)).rejects.toThrow('status 502')
    await loggedWith(path, 502)
    await flushProof()
    await flushProof()
    expect(await field('eve/')).toBeNull()
  })

  it('keeps the activity of a failed flush for the next one (Redis down meanwhile)', async () => {
    await stack.stopRedis()
    const t = Date.now()
    expect((await asUser('carol', '/user/carol/')).status).toBe(200)
    await waitFor('a failed flush', () =>
      readFileSync(stack.proxy.errorLog, 'utf8').includes('failed to flush activity'),
    )
    await stack.startRedis()
    await flushedAtLeast('carol/', t - 50, 10_000)
  })
})
