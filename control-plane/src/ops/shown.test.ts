// Values a backup file carries are printed to the operator's terminal: never its escape sequences.
import { describe, expect, it } from 'vitest'
import { shown } from './restore'

describe('shown', () => {
  it('turns control characters into "?", bounds the length, and keeps ordinary text', () => {
    expect(shown('0.2.0')).toBe('0.2.0')
    expect(shown('1.0\u001b]2;owned\u0007\u001b[2J')).toBe('1.0?]2;owned??[2J')
    expect(shown('a\nb\r\u009bc')).toBe('a?b??c')
    expect(shown('x'.repeat(500))).toHaveLength(200)
    expect(shown(undefined)).toBe('')
  })
})
