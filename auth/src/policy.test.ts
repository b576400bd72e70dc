import { describe, expect, it } from 'vitest'
import { checkUsername, isAdmin, isAllowed, normalizeUsername } from './policy'

describe('username policy', () => {
  it('lower-cases names as JupyterHub does', () => {
    expect(normalizeUsername('Alice')).toBe('alice')
    expect(checkUsername('Bob.Smith@Example.ORG')).toBe('bob.smith@example.org')
  })

  it.each([
    ['', 'empty'],
    ['a/b', '"/"'],
    [' alice', 'white space'],
    ['alice ', 'white space'],
    ['al\u0000ice', 'control character'],
    ['..', '"." or ".."'],
    ['x'.repeat(256), 'longer than 255'],
  ])('refuses %j, saying why', (name, why) => {
    expect(() => checkUsername(name)).toThrow(why)
  })

  it('applies blocked before allowed, and lets admins in', () => {
    const p = { admins: ['root'], allowed: ['ann'], blocked: ['ann2'] }
    expect(isAllowed(p, 'ann')).toBe(true)
    expect(isAllowed(p, 'root')).toBe(true)
    expect(isAllowed(p, 'bob')).toBe(false)
    expect(isAllowed({ ...p, allowed: [] }, 'bob')).toBe(true)
    expect(isAllowed({ ...p, allowed: [] }, 'ann2')).toBe(false)
  })
})

describe('groups in the login policy', () => {
  const base = { admins: ['root'], allowed: [], blocked: ['eve'] }
  it('lets members of auth.allowedGroups in, and only them once it is set', () => {
    const p = { ...base, allowedGroups: ['students'] }
    expect(isAllowed(p, 'ann', ['students'])).toBe(true)
    expect(isAllowed(p, 'bob', ['staff'])).toBe(false)
    expect(isAllowed(p, 'bob')).toBe(false)
    expect(isAllowed({ ...p, allowed: ['bob'] }, 'bob')).toBe(true)
    expect(isAllowed(p, 'eve', ['students'])).toBe(false) // blocked wins
    expect(isAllowed(p, 'root')).toBe(true)
  })
  it('makes members of auth.adminGroups admins, who may always log in', () => {
    const p = { ...base, allowed: ['ann'], adminGroups: ['it'] }
    expect(isAdmin(p, 'carl', ['it'])).toBe(true)
    expect(isAllowed(p, 'carl', ['it'])).toBe(true)
    expect(isAdmin(p, 'carl', ['students'])).toBe(false)
    expect(isAdmin(p, 'root')).toBe(true)
  })
})
