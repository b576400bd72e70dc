// The `groups` setting as an operator uses it (JupyterHub's load_groups): groups, members and
// properties exist once the hub has started; a restart with a changed config only adds (members
// added through the API and groups no longer listed stay, properties are replaced when given); two
// replicas starting at once end with the same groups; a bad group or user name stops the start with
// one line naming the key. Everything is read back through the proxy with an admin's token.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { BIN, startStack, type Stack } from '../../support/stack'
import { startCluster, type Cluster } from '../../support/cluster'
import { json } from '../../support/client'
import { issuedToken, rootOf } from '../../support/people'

const auth = (token: string) => ({ authorization: `token ${token}` })

/** Every group as GET /hub/api/groups answers it, by name. */
async function groupsAt(
  url: string,
  token: string,
): Promise<Record<string, { users: string[]; properties: Record<string, unknown> }>> {
  const res = await fetch(`${url}/hub/api/groups`, { headers: auth(token) })
  expect(res.status).toBe(200)
  return Object.fromEntries(
    ((await res.json()) as Array<{ name: string; users: string[]; properties: Record<string, unknown> }>).map((g) => [
      g.name,
      { users: g.users, properties: g.properties },
    ]),
  )
}

/** Rewrites the `groups` setting of a config file, leaving the rest as it is. */
function setGroups(configFile: string, groups: unknown) {
  const settings = parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>
  writeFileSync(configFile, stringify({ ...settings, groups }))
}

describe('groups named in the config of one hub', () => {
  let stack: Stack
  afterAll(async () => {
    await stack?.stop()
  }, 60_000)

  it('are made at start, and a restart with a changed config only adds', async () => {
    stack = await startStack({
      groups: {
        staff: { users: ['Ann', 'bob'], properties: { course: 'physics-101' } },
        legacy: ['cat'], // JupyterHub's older form
      },
      roles: [{ name: 'staff-readers', scopes: ['list:users', 'read:users:name'], groups: ['staff'] }],
    })
    const root = await rootOf(stack)

    // at start: the groups, their members (user names normalized, users created) and properties
    expect(await groupsAt(stack.url, root.token)).toEqual({
      staff: { users: ['ann', 'bob'], properties: { course: 'physics-101' } },
      legacy: { users: ['cat'], properties: {} },
    })
    const ann = await json(await fetch(`${stack.url}/hub/api/users/ann`, { headers: root.auth }))
    expect(ann.groups).toEqual(['staff'])
    expect(ann.roles).toEqual(['user', 'staff-readers'])
    // a role given to the group reaches its configured members: ann may list users
    const annToken = issuedToken(stack, 'ann')
    const listed = await fetch(`${stack.url}/hub/api/users`, { headers: auth(annToken) })
    expect(listed.status).toBe(200)
    expect(((await listed.json()) as Array<{ name: string }>).map((u) => u.name).sort()).toEqual([
      'ann',
      'bob',
      'cat',
      'root',
    ])

    // an admin adds dan to staff through the API; the operator then changes the config and restarts
    expect((await fetch(`${stack.url}/hub/api/users/dan`, { method: 'POST', headers: root.auth })).status).toBe(201)
    const added = await fetch(`${stack.url}/hub/api/groups/staff/users`, {
      method: 'POST',
      headers: { ...root.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ users: ['dan'] }),
    })
    expect(added.status).toBe(200)
    setGroups(stack.configFile, {
      staff: { users: ['eve'], properties: { course: 'physics-102' } }, // ann and bob no longer listed
      fresh: { users: ['ann'] }, // no properties given
    }) // legacy no longer listed
    await stack.hub.stop()
    await stack.startHub()

    expect(await groupsAt(stack.url, root.token)).toEqual({
      staff: { users: ['ann', 'bob', 'dan', 'eve'], properties: { course: 'physics-102' } },
      legacy: { users: ['cat'], properties: {} },
      fresh: { users: ['ann'], properties: {} },
    })

    // properties set through the API stay when the config gives none
    const put = await fetch(`${stack.url}/hub/api/groups/fresh/properties`, {
      method: 'PUT',
      headers: root.auth,
      body: JSON.stringify({ room: 'b12' }),
    })
    expect(put.status).toBe(200)
    await stack.hub.stop()
    await stack.startHub()
    expect((await groupsAt(stack.url, root.token)).fresh).toEqual({ users: ['ann'], properties: { room: 'b12' } })
  }, 120_000)
})

describe('groups named in the config of two replicas starting at once', () => {
  let cluster: Cluster
  afterAll(async () => {
    await cluster?.stop()
  }, 60_000)

  it('end the same, each group made once with every member', async () => {
    cluster = await startCluster({ hubs: 2, proxies: 1, haproxy: false })
    const root = await rootOf({ url: cluster.url, dir: cluster.dir })
    // both replicas stop, the config gains groups, and both start at the same moment
    await Promise.all([cluster.killHub(0, 'SIGTERM'), cluster.killHub(1, 'SIGTERM')])
    const members = Array.from({ length: 40 }, (_, i) => `member${i}`)
    setGroups(join(cluster.dir, 'edgehub.yaml'), {
      big: { users: members, properties: { size: 'large' } },
      small: ['member0', 'root'],
    })
    await Promise.all([cluster.startHub(0), cluster.startHub(1)])

    const expected = {
      big: { users: [...members].sort(), properties: { size: 'large' } },
      small: { users: ['member0', 'root'], properties: {} },
    }
    // the same answer from either replica, and each user once
    expect(await groupsAt(cluster.hubUrls[0], root.token)).toEqual(expected)
    expect(await groupsAt(cluster.hubUrls[1], root.token)).toEqual(expected)
    const users = await json(await fetch(`${cluster.url}/hub/api/users?limit=200`, { headers: root.auth }))
    const names = (users as Array<{ name: string }>).map((u) => u.name)
    expect(names.length).toBe(new Set(names).size)
    expect(names.sort()).toEqual([...members, 'root'].sort())
    const m0 = await json(await fetch(`${cluster.url}/hub/api/users/member0`, { headers: root.auth }))
    expect(m0.groups).toEqual(['big', 'small'])
  }, 180_000)
})

describe('a bad name in the groups setting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgehub-groups-config-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  /** Starts `edgehub hub` with this config; it must stop before reaching Redis (there is none). */
  function start(groups: unknown) {
    const file = join(dir, 'edgehub.yaml')
    writeFileSync(file, stringify({ dataDir: dir, redis: { url: 'redis://127.0.0.1:1' }, groups }))
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))
    const r = spawnSync(process.execPath, [BIN, 'hub', '--config', file], { encoding: 'utf8', env, timeout: 30_000 })
    const problems = r.stderr.split('\n').filter((l) => l.startsWith('  '))
    return { code: r.status, problems }
  }

  it('stops the start with one line naming the group', () => {
    const r = start({ 'math/101': ['ann'] })
    expect(r.code).not.toBe(0)
    expect(r.problems).toEqual([
      '  groups.math/101: invalid group name "math/101": no slashes, control characters, "." or ".."',
    ])
    expect(start({ ' staff': [] }).problems).toEqual(['  groups. staff: group names may not start or end with spaces'])
  }, 60_000)

  it('stops the start with one line naming the member, in either form', () => {
    const r = start({ staff: { users: ['ann', 'a/b'] } })
    expect(r.code).not.toBe(0)
    expect(r.problems).toEqual(['  groups.staff.users.1: invalid user name: the name contains "/"'])
    expect(start({ staff: ['..'] }).problems).toEqual(['  groups.staff.0: invalid user name: the name is "." or ".."'])
    expect(start({ staff: { members: ['ann'] } }).problems).toEqual(['  groups.staff.members: unknown setting'])
  }, 60_000)
})
