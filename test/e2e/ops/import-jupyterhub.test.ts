// `edgehub import-jupyterhub`: a real JupyterHub 3.0 database, made by Debian's jupyterhub package
// (its ORM, no server), imported into a running stack and checked through the REST API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawnSync } from 'node:child_process'
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { BIN, startStack, type Stack } from '../../support/stack'
import { cli, rootOf, type Admin } from '../../support/people'
import { json } from '../../support/client'

// ada (not an admin; created and active at known times) with a token, root (admin), bob; group
// physics (ada, bob); role grader (scopes read:users and access:servers!group=physics) given to root
// and to physics. JupyterHub gives every user the default `user` role at its start: done here too.
const MAKE_DB = `
import sys, json
from datetime import datetime
from jupyterhub import orm
db = orm.new_session_factory('sqlite:///' + sys.argv[1])()
db.add(orm.OAuthClient(identifier='jupyterhub'))
user_role = orm.Role(name='user', description='Standard user privileges', scopes=['self'])
db.add(user_role)
ada = orm.User(name='ada', created=datetime(2021, 3, 4, 5, 6, 7), last_activity=datetime(2024, 1, 2, 3, 4, 5))
root = orm.User(name='root', admin=True)
bob = orm.User(name='bob')
db.add_all([ada, root, bob])
user_role.users = [ada, root, bob]
physics = orm.Group(name='physics')
physics.users = [ada, bob]
db.add(physics)
grader = orm.Role(name='grader', description='grades', scopes=['read:users', 'access:servers!group=physics'])
grader.users = [root]
grader.groups = [physics]
db.add(grader)
db.commit()
token = ada.new_api_token(note='for CI', scopes=['read:users:name!user=ada'])
db.commit()
print(json.dumps({'token': token}))
`

const dir = mkdtempSync(join(tmpdir(), 'edgehub-jh-'))
const db = join(dir, 'jupyterhub.sqlite')
let jhToken = ''
let stack: Stack
let operator: Admin
let output = ''

function edgehub(args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))
  const r = spawnSync(process.execPath, [BIN, ...args, '--config', stack.configFile], { encoding: 'utf8', env })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

beforeAll(async () => {
  const made = execFileSync('/usr/bin/python3', ['-c', MAKE_DB, db], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  jhToken = JSON.parse(made.trim().split('\n').pop()!).token
  stack = await startStack()
  operator = await rootOf(stack, 'operator')
  output = cli(stack, ['import-jupyterhub', db])
}, 180_000)
afterAll(async () => {
  await stack?.stop()
  rmSync(dir, { recursive: true, force: true })
}, 60_000)

describe('import-jupyterhub from a JupyterHub 3.0 database', () => {
  it('names the release and revision it read, and what it did', () => {
    expect(output).toContain('JupyterHub 3.0, schema revision 651f5419b74d')
    expect(output).toContain('users: 3 created (ada, bob, root)')
    expect(output).toContain('groups: 1 created')
  })

  it('imports users with their admin flag and last activity', async () => {
    const users = await json(await fetch(`${stack.url}/hub/api/users`, { headers: operator.auth }))
    const byName = Object.fromEntries(users.map((u: { name: string }) => [u.name, u]))
    expect(Object.keys(byName).sort()).toEqual(['ada', 'bob', 'operator', 'root'])
    expect(byName.root.admin).toBe(true)
    expect(byName.ada.admin).toBe(false)
    expect(byName.ada.last_activity).toBe('2024-01-02T03:04:05.000Z')
  })

  it('imports groups with their members, which the proxy learns too', async () => {
    const g = await json(await fetch(`${stack.url}/hub/api/groups/physics`, { headers: operator.auth }))
    expect(g).toMatchObject({ name: 'physics', users: ['ada', 'bob'] })
    const access = await stack.state.hget(stack.keys.proxyTable('access'), 'ada')
    expect(JSON.parse(access!).groups).toEqual(['physics'])
  })

  it('writes the roles as configuration, which the hub then applies', async () => {
    const file = join(stack.dir, 'jupyterhub-roles.yaml')
    expect(output).toContain(`roles: grader written to ${file}`)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const { roles } = parse(readFileSync(file, 'utf8'))
    expect(roles).toEqual([
      {
        name: 'grader',
        description: 'grades',
        scopes: ['read:users', 'access:servers!group=physics'],
        users: ['root'],
        groups: ['physics'],
        services: [],
      },
    ])
    appendFileSync(stack.configFile, `\n${readFileSync(file, 'utf8')}`)
    await stack.killHub('SIGTERM')
    await stack.startHub()
    const root = await json(await fetch(`${stack.url}/hub/api/users/root`, { headers: operator.auth }))
    expect(root.roles).toEqual(expect.arrayContaining(['admin', 'grader', 'user']))
    const bob = await json(await fetch(`${stack.url}/hub/api/users/bob`, { headers: operator.auth }))
    expect(bob.roles).toEqual(expect.arrayContaining(['grader', 'user'])) // through physics
  })

  it('lists the tokens it could not carry over, by owner and note, never their hash', async () => {
    expect(output).toMatch(/API tokens: 1 not carried over/)
    expect(output).toContain('ada: "for CI" scopes read:users:name!user=ada')
    expect(output).not.toMatch(/sha512:/)
    const res = await fetch(`${stack.url}/hub/api/user`, { headers: { authorization: `token ${jhToken}` } })
    expect(res.status).toBe(403)
  })

  it('refuses a database of a schema revision it does not know, in one line', () => {
    const other = join(dir, 'unknown.sqlite')
    copyFileSync(db, other)
    execFileSync('sqlite3', [other, "UPDATE alembic_version SET version_num = '0123456789ab'"])
    const r = edgehub(['import-jupyterhub', other])
    expect(r.code).not.toBe(0)
    expect(r.err.trim().split('\n')).toHaveLength(1)
    expect(r.err).toContain('its schema revision 0123456789ab is not one this import knows')
  })

  it('leaves users that are already here as they are', () => {
    const again = cli(stack, ['import-jupyterhub', db])
    expect(again).toContain('users: 0 created, 3 already here and left as they are (ada, bob, root)')
  })
})
