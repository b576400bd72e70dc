// Upgrading from the previous release's data (test/fixtures/upgrade-0.1.0): the current hub starts on
// it, the leader migrates it to the current schema version, and its users, groups and tokens work,
// through the hub and through the proxy; a hub refuses data of a newer schema with one line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { BIN, ROOT, startStack, type Stack } from '../../support/stack'
import { cli, logIn, startServer } from '../../support/people'
import { json } from '../../support/client'
import { okServerSpawner } from '../../support/servers'
import { waitFor } from '../../../runtime/src/wait'

const FIXTURE = join(ROOT, 'test/fixtures/upgrade-0.1.0')
const people = JSON.parse(readFileSync(join(FIXTURE, 'people.json'), 'utf8'))
const auth = (name: string) => ({ authorization: `token ${people[name].token}` })

let stack: Stack

beforeAll(async () => {
  stack = await startStack({ spawner: okServerSpawner() })
  await stack.killHub('SIGTERM')
  cli(stack, ['restore', join(FIXTURE, 'data.backup'), '--force'])
  expect(await stack.state.get(stack.keys.schemaVersion)).toBeNull() // 0.1.0 recorded none
  await stack.startHub()
}, 180_000)
afterAll(async () => stack?.stop(), 60_000)

describe('the data of edgehub 0.1.0', () => {
  it('is migrated to the current schema version by the leader', async () => {
    await waitFor('the schema migration', async () => (await stack.state.get(stack.keys.schemaVersion)) === '1', {
      timeoutMs: 20_000,
    })
  })

  it('keeps its users, admins and groups', async () => {
    const users = await json(await fetch(`${stack.url}/hub/api/users`, { headers: auth('root') }))
    expect(users.map((u: { name: string; admin: boolean; groups: string[] }) => [u.name, u.admin, u.groups])).toEqual([
      ['ada', false, ['physics']],
      ['bob', false, ['physics']],
      ['root', true, ['staff']],
    ])
    const group = await json(await fetch(`${stack.url}/hub/api/groups/physics`, { headers: auth('root') }))
    expect(group).toMatchObject({ name: 'physics', users: ['ada', 'bob'], properties: { course: 'physics' } })
  })

  it('keeps tokens with their scopes, and passwords', async () => {
    expect(await json(await fetch(`${stack.url}/hub/api/user`, { headers: auth('ada') }))).toMatchObject({
      name: 'ada',
    })
    // bob's token from the CLI can read bob's name and nothing of ada's
    const bob = await fetch(`${stack.url}/hub/api/users/bob`, { headers: auth('bob') })
    expect(bob.status).toBe(200)
    const adaByBob = await fetch(`${stack.url}/hub/api/users/ada`, { headers: auth('bob') })
    expect(adaByBob.status).toBe(404)
    const client = await logIn(stack.url, 'ada', people.ada.password)
    expect((await client.get('/hub/home')).status).toBe(200)
  })

  it("serves a server of a migrated user through the proxy with the user's old token", async () => {
    await startServer(stack.url, people.ada.token, 'ada')
    const res = await fetch(`${stack.url}/user/ada/`, { headers: auth('ada'), redirect: 'manual' })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('ok')
    const other = await fetch(`${stack.url}/user/ada/`, { headers: auth('bob'), redirect: 'manual' })
    expect(other.status).toBe(403)
  })

  it('is refused by a hub that finds a newer schema version, in one line', async () => {
    await stack.killHub('SIGTERM')
    await stack.state.set(stack.keys.schemaVersion, '99')
    try {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))
      const r = spawnSync(process.execPath, [BIN, 'hub', '--config', stack.configFile], {
        encoding: 'utf8',
        env,
        timeout: 60_000,
      })
      expect(r.status).toBe(1)
      expect(r.stderr.trim().split('\n')).toEqual([
        'edgehub: the data in Redis has schema version 99, newer than this edgehub knows (1): a newer edgehub has migrated it; run that version (or newer), or restore a backup taken before the upgrade',
      ])
    } finally {
      await stack.state.set(stack.keys.schemaVersion, '1')
      await stack.startHub()
    }
  }, 180_000)
})
