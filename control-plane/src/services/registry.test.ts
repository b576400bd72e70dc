// A replica's start publishes the configured services and revokes the tokens of services no longer
// configured: found through the token-services set (no keyspace scan), however many users there are.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { buildDeps, type Deps } from '../deps'
import { loadConfig } from '../config/load'
import { createLogger } from '../../../runtime/src/log'
import { publishServices } from './registry'
import { testRedis } from '../../../test/support/redis'

let redis: Awaited<ReturnType<typeof testRedis>>
const dir = mkdtempSync(join(tmpdir(), 'edgehub-services-'))
const open: Deps[] = []

async function depsWith(services: unknown[]): Promise<Deps> {
  const file = join(dir, `edgehub-${open.length}.yaml`)
  writeFileSync(file, stringify({ dataDir: dir, redis: { url: redis.url }, services }))
  const d = await buildDeps(loadConfig({ file, env: {} }).config, { log: createLogger('test', { level: 'error' }) })
  open.push(d)
  return d
}

beforeAll(async () => {
  redis = await testRedis()
})
afterAll(async () => {
  for (const d of open) await d.close()
  await redis?.stop()
  rmSync(dir, { recursive: true, force: true })
})

it('revokes the token of a service dropped from the config, and keeps the others', async () => {
  const TOKEN_A = 'a'.repeat(40)
  const TOKEN_B = 'b'.repeat(40)
  const before = await depsWith([
    { name: 'alpha', apiToken: TOKEN_A },
    { name: 'beta', apiToken: TOKEN_B },
  ])
  await publishServices(before)
  expect(await before.tokens.servicesWithTokens()).toEqual(['alpha', 'beta'])
  for (let i = 0; i < 50; i++) await before.users.create(`user-${i}`) // unrelated keys around

  const after = await depsWith([{ name: 'beta', apiToken: TOKEN_B }])
  await publishServices(after)
  expect(await after.tokens.servicesWithTokens()).toEqual(['beta'])
  expect(await after.tokens.verify(TOKEN_A)).toBeFalsy()
  expect((await after.tokens.verify(TOKEN_B))?.service).toBe('beta')
})
