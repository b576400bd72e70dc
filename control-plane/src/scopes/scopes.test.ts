// The scope engine on its own: expansion, filters, checks and intersection (JupyterHub's rules).
import { describe, expect, it } from 'vitest'
import { expand, has, intersect, scopeProblem, toStrings, union } from './scope-set'
import { Roles } from './roles'
import { configSchema } from '../config/schema'

const alice = { kind: 'user' as const, name: 'alice' }
const groupsOf = async (u: string) => (({ bob: ['staff'], carol: ['students'] }) as Record<string, string[]>)[u] ?? []

describe('scope expansion', () => {
  it('adds subscopes recursively', () => {
    const s = toStrings(expand(['admin:users']))
    expect(s).toEqual(
      expect.arrayContaining([
        'admin:users',
        'users',
        'read:users',
        'list:users',
        'read:users:name',
        'users:activity',
        'delete:users',
        'read:roles:users',
      ]),
    )
    expect(s).not.toContain('servers')
  })

  it('keeps a filter on every subscope', () => {
    expect(toStrings(expand(['servers!user=bob']))).toEqual([
      'delete:servers!user=bob',
      'read:servers!user=bob',
      'read:users:name!user=bob',
      'servers!user=bob',
      'start:servers!user=bob',
    ])
  })

  it("turns self into the owner's own scopes and fills filter shorthands", () => {
    const s = expand(['self'], alice)
    expect(has(s, 'access:servers', { user: 'alice', server: 'alice/' })).toBe(true)
    expect(has(s, 'access:servers', { user: 'bob', server: 'bob/' })).toBe(false)
    expect(has(s, 'tokens', { user: 'alice' })).toBe(true)
    expect(has(s, 'list:users')).toBe(false)
    const server = expand(['users:activity!user', 'access:servers!server'], { ...alice, server: 'alice/gpu' })
    expect(toStrings(server)).toEqual([
      'access:servers!server=alice/gpu',
      'read:users:activity!user=alice',
      'users:activity!user=alice',
    ])
  })

  it('an unfiltered grant wins over filtered ones', () => {
    expect(toStrings(union(expand(['read:users!user=bob']), expand(['read:users'])))).toContain('read:users')
    expect(toStrings(union(expand(['read:users!user=bob']), expand(['read:users'])))).not.toContain(
      'read:users!user=bob',
    )
  })

  it('names what is wrong with a bad scope', () => {
    expect(scopeProblem('read:users')).toBeUndefined()
    expect(scopeProblem('read:everything')).toMatch(/unknown scope/)
    expect(scopeProblem('read:users!colour=blue')).toMatch(/unknown filter/)
    expect(scopeProblem('access:servers!server=alice')).toMatch(/user\/servername/)
    expect(scopeProblem('read:users!user=')).toMatch(/empty filter/)
  })
})

describe('scope checks', () => {
  const s = expand([
    'access:servers!group=staff',
    'read:users!user=carol',
    'read:servers!server=dave/gpu',
    'read:groups!group=staff',
  ])
  it('match through users, servers and groups', () => {
    expect(has(s, 'access:servers', { user: 'bob', server: 'bob/', groups: ['staff'] })).toBe(true)
    expect(has(s, 'access:servers', { user: 'carol', server: 'carol/', groups: ['students'] })).toBe(false)
    expect(has(s, 'read:users', { user: 'carol' })).toBe(true)
    expect(has(s, 'read:servers', { user: 'dave', server: 'dave/gpu' })).toBe(true)
    expect(has(s, 'read:servers', { user: 'dave', server: 'dave/' })).toBe(false)
    expect(has(s, 'read:groups', { group: 'staff' })).toBe(true)
    expect(has(s, 'read:groups')).toBe(false)
  })
})

describe('scope intersection', () => {
  it('keeps what both grant, through the user/server/group hierarchy', async () => {
    const owner = expand(['access:servers!user=bob', 'read:users!group=staff', 'read:hub'])
    const token = expand([
      'access:servers!server=bob/x',
      'access:servers!server=carol/',
      'read:users!user=bob',
      'read:users!user=carol',
      'tokens',
    ])
    const both = toStrings(await intersect(token, owner, groupsOf))
    expect(both).toContain('access:servers!server=bob/x')
    expect(both).not.toContain('access:servers!server=carol/')
    expect(both).toContain('read:users!user=bob') // bob is in staff
    expect(both).not.toContain('read:users!user=carol')
    expect(both.some((s) => s.startsWith('tokens'))).toBe(false)
    expect(both.some((s) => s.startsWith('read:hub'))).toBe(false)
  })
  it('an unfiltered side yields the other side', async () => {
    expect(toStrings(await intersect(expand(['read:users']), expand(['read:users!user=x']), groupsOf))).toContain(
      'read:users!user=x',
    )
  })
})

describe('roles', () => {
  it('gives every user `user`, admins `admin`, and configured roles by user and group', () => {
    const roles = new Roles([
      {
        name: 'grader',
        description: '',
        scopes: ['read:users!group=students', 'access:servers!group=students'],
        users: ['tess'],
        groups: ['tas'],
        services: [],
      },
    ])
    expect(roles.ofUser('ann', false, [])).toEqual(['user'])
    expect(roles.ofUser('root', true, [])).toEqual(['user', 'admin'])
    expect(roles.ofUser('tess', false, [])).toEqual(['user', 'grader'])
    expect(roles.ofUser('tom', false, ['tas'])).toEqual(['user', 'grader'])
    const s = roles.scopes(roles.ofUser('tom', false, ['tas']), { kind: 'user', name: 'tom' })
    expect(has(s, 'access:servers', { user: 'sam', server: 'sam/', groups: ['students'] })).toBe(true)
    expect(has(s, 'access:servers', { user: 'tom', server: 'tom/' })).toBe(true)
    expect(has(s, 'access:servers', { user: 'root', server: 'root/', groups: [] })).toBe(false)
  })
})

describe("JupyterHub's default roles", () => {
  const root = { kind: 'user' as const, name: 'root' }

  it('the admin role holds access:servers by default, and proxy.adminAccess false drops it', () => {
    const jupyterhub = new Roles([])
    expect(has(jupyterhub.scopes(['user', 'admin'], root), 'access:servers', { user: 'ann', server: 'ann/' })).toBe(
      true,
    )
    const weak = new Roles([], false)
    const s = weak.scopes(['user', 'admin'], root)
    expect(has(s, 'access:servers', { user: 'ann', server: 'ann/' })).toBe(false)
    expect(has(s, 'access:servers', { user: 'root', server: 'root/' })).toBe(true) // their own, from `self`
    expect(has(s, 'admin:servers', { user: 'ann' })).toBe(true)
    expect(configSchema.parse({}).proxy.adminAccess).toBe(true)
  })

  it('a token asked for without scopes gets the token role: inherit, or what the config redefines', () => {
    expect(new Roles([]).defaultTokenScopes()).toEqual(['inherit'])
    expect(
      new Roles([
        { name: 'token', description: '', scopes: ['read:users!user'], users: [], groups: [], services: [] },
      ]).defaultTokenScopes(),
    ).toEqual(['read:users!user'])
  })

  it('refuses a redefined admin role without access:servers unless proxy.adminAccess is false, naming the key', () => {
    const admin = { name: 'admin', scopes: ['admin:users', 'admin:servers'] }
    const r = configSchema.safeParse({ roles: [admin] })
    expect(r.success).toBe(false)
    expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual(['proxy.adminAccess'])
    expect(configSchema.safeParse({ roles: [admin], proxy: { adminAccess: false } }).success).toBe(true)
    expect(configSchema.safeParse({ roles: [{ ...admin, scopes: [...admin.scopes, 'access:servers'] }] }).success).toBe(
      true,
    )
  })
})
