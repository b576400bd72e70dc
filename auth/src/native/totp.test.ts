import { describe, expect, it } from 'vitest'
import { base32Decode, base32Encode, matchTotp, newTotpSecret, otpauthUri, stepAt, totpAt } from './totp'

// RFC 6238's test secret (ASCII "12345678901234567890") and its SHA-1 values, cut to 6 digits
const RFC_SECRET = base32Encode(Buffer.from('12345678901234567890'))

describe('TOTP', () => {
  it("gives RFC 6238's SHA-1 test values", () => {
    for (const [t, code] of [
      [59, '287082'],
      [1111111109, '081804'],
      [1111111111, '050471'],
      [1234567890, '005924'],
      [2000000000, '279037'],
    ] as const)
      expect(totpAt(RFC_SECRET, stepAt(t * 1000))).toBe(code)
  })

  it('accepts a code one step either side of now, and nothing further or malformed', () => {
    const now = 1_700_000_000_000
    const step = stepAt(now)
    expect(matchTotp(RFC_SECRET, totpAt(RFC_SECRET, step), now)).toBe(step)
    expect(matchTotp(RFC_SECRET, totpAt(RFC_SECRET, step - 1), now)).toBe(step - 1)
    expect(matchTotp(RFC_SECRET, totpAt(RFC_SECRET, step + 2), now)).toBeUndefined()
    expect(matchTotp(RFC_SECRET, '12345', now)).toBeUndefined()
    expect(matchTotp(RFC_SECRET, 'abcdef', now)).toBeUndefined()
  })

  it('makes 160-bit secrets that round-trip through base32, and an otpauth address', () => {
    const s = newTotpSecret()
    expect(base32Decode(s)).toHaveLength(20)
    expect(base32Encode(base32Decode(s))).toBe(s)
    expect(otpauthUri('edgehub', 'ann', s)).toBe(
      `otpauth://totp/edgehub:ann?secret=${s}&issuer=edgehub&algorithm=SHA1&digits=6&period=30`,
    )
  })
})
