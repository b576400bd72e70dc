import { describe, expect, it } from 'vitest'
import { checkUsername, isAllowed, normalizeUsername } from './policy'

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
