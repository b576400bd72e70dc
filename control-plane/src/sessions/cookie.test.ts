import { describe, expect, it } from 'vitest'
import { newKeySecret, newSessionId, signCookie, verifyCookie } from './cookie'

const secret = newKeySecret()
const now = Math.floor(Date.now() / 1000)
const claims = { kid: 'k1', user: 'ännä@example.org', sid: newSessionId(), exp: now + 60 }

describe('session cookie', () => {
  it('verifies what it signs, names with any character included', () => {
    expect(verifyCookie(signCookie(claims, secret), () => secret)).toEqual(claims)
  })

  it('refuses a cookie signed with another key', () => {
    expect(verifyCookie(signCookie(claims, newKeySecret()), () => secret)).toBeNull()
  })

  it('refuses an unknown key id', () => {
    expect(verifyCookie(signCookie(claims, secret), () => undefined)).toBeNull()
  })

  it('refuses a cookie whose user was changed', () => {
    const parts = signCookie(claims, secret).split('.')
    parts[2] = Buffer.from('admin').toString('base64url')
    expect(verifyCookie(parts.join('.'), () => secret)).toBeNull()
  })

  it('refuses an expired cookie', () => {
    expect(verifyCookie(signCookie({ ...claims, exp: now - 1 }, secret), () => secret)).toBeNull()
  })

  it.each(['', 'garbage', 'v1.k1', `v2.k1.YQ.${'a'.repeat(22)}.1.${'a'.repeat(43)}`, 'v1.k1.YQ.short.1.sig'])(
    'refuses the malformed value %j',
    (v) => expect(verifyCookie(v, () => secret)).toBeNull(),
  )
})
