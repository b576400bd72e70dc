import { describe, expect, it } from 'vitest'
import { TOKEN_LIFETIME_CAP_SEC, tokenLifetime } from './token-lifetime'

describe('tokenLifetime', () => {
  it('without a maximum: absent is never, up to the 10-year cap is kept, beyond is refused', () => {
    expect(tokenLifetime(undefined, 0)).toEqual({})
    expect(tokenLifetime(3600, 0)).toEqual({ expiresInSec: 3600 })
    expect(tokenLifetime(TOKEN_LIFETIME_CAP_SEC, 0)).toEqual({ expiresInSec: TOKEN_LIFETIME_CAP_SEC })
    expect(tokenLifetime(1e13, 0).problem).toBe(
      `token expires_in: 10000000000000 must not exceed ${TOKEN_LIFETIME_CAP_SEC}`,
    )
  })

  it('with a maximum: absent is the maximum, above it is refused', () => {
    expect(tokenLifetime(undefined, 86400)).toEqual({ expiresInSec: 86400 })
    expect(tokenLifetime(null, 86400)).toEqual({ expiresInSec: 86400 })
    expect(tokenLifetime(86401, 86400).problem).toBe('token expires_in: 86401 must not exceed 86400')
  })

  it.each([0, -1, 1.5, NaN, Infinity, '60', true])('refuses %s', (v) => {
    expect(tokenLifetime(v, 0).problem).toMatch(/^token expires_in/)
  })
})
