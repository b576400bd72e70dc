import { describe, expect, it } from 'vitest'
import { escapeName, nameTemplateProblem, objectName } from './object-names'

describe('object names', () => {
  it('escapes as JupyterHub does, so names that differ only in case or punctuation stay apart', () => {
    expect(escapeName('alice')).toBe('alice')
    expect(escapeName('Alice')).toBe('-41lice')
    expect(escapeName('a.b')).toBe('a-2eb')
    expect(escapeName('a-2eb')).toBe('a-2d2eb')
    expect(escapeName('jö')).toBe('j-c3-b6')
    const names = ['alice', 'Alice', 'ALICE', 'a.lice', 'a_lice', 'a-lice', 'a lice', 'a-2elice', 'a@lice', 'ali.ce']
    expect(new Set(names.map(escapeName)).size).toBe(names.length)
  })

  it('fills templates, dropping the server part of a default server', () => {
    expect(objectName('jupyter-{username}-{servername}', { username: 'Bob', servername: '' })).toBe('jupyter--42ob')
    expect(objectName('jupyter-{username}-{servername}', { username: 'bob', servername: 'gpu' })).toBe(
      'jupyter-bob-gpu',
    )
    expect(objectName('claim-{username}', { username: 'bob', servername: 'x' })).toBe('claim-bob')
  })

  it('keeps long names within the limit and distinct, beginning and ending with a-z or 0-9', () => {
    const a = objectName('jupyter-{username}', { username: 'x'.repeat(80), servername: '' })
    const b = objectName('jupyter-{username}', { username: `${'x'.repeat(79)}y`, servername: '' })
    expect(a.length).toBeLessThanOrEqual(63)
    expect(a).not.toBe(b)
    const dash = objectName('{username}', { username: '.', servername: '' })
    expect(dash).toMatch(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/)
    expect(dash).not.toBe(objectName('{username}', { username: ',', servername: '' }))
  })

  it('names a bad template', () => {
    expect(nameTemplateProblem('jupyter-{user}')).toMatch(/placeholders/)
    expect(nameTemplateProblem('jupyter')).toMatch(/\{username\}/)
    expect(nameTemplateProblem('Jupyter-{username}')).toMatch(/a-z/)
    expect(nameTemplateProblem('jupyter-{username}-{servername}')).toBeUndefined()
  })
})
