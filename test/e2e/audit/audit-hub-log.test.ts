// Without audit.file the events go to the hub's log stream (component hub.audit), and accessLog: false
// leaves no access lines while other info lines are written.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { rootOf } from '../../support/people'
import { Client } from '../../support/client'

let stack: Stack

beforeAll(async () => {
  stack = await startStack({ logLevel: 'info', accessLog: false })
}, 120_000)
afterAll(async () => {
  await stack?.stop()
}, 60_000)

it('writes audit events to the hub log, and no access lines with accessLog false', async () => {
  const root = await rootOf(stack)
  const wrong = 'not-the-root-password-42'
  const res = await new Client(stack.url).login('root', wrong)
  expect(res.status).toBe(403)
  const rid = res.headers.get('x-request-id')
  const lines = readFileSync(join(stack.dir, 'hub.log'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
  expect(lines).toContainEqual(
    expect.objectContaining({ component: 'hub.audit', action: 'login', target: 'root', outcome: 'success' }),
  )
  expect(lines).toContainEqual(
    expect.objectContaining({
      component: 'hub.audit',
      action: 'login.failure',
      reason: 'bad-credentials',
      request_id: rid,
    }),
  )
  expect(lines.filter((l) => l.component === 'hub.access')).toEqual([])
  expect(lines.filter((l) => l.level === 'info' && l.component === 'hub').length).toBeGreaterThan(0)
  const text = readFileSync(join(stack.dir, 'hub.log'), 'utf8')
  for (const secret of [wrong, root.password, root.token]) expect(text).not.toContain(secret)
})
