import { describe, expect, it } from 'vitest'
import { hashPassword, verifyPassword } from './password'
import { createNativeAuthenticator } from './index'
import { nativeSettings } from './settings'

describe('scrypt password hashes', () => {
  it('accepts the right password and refuses a wrong one', async () => {
    const h = await hashPassword('correct horse', 1024)
    expect(h).toMatch(/^scrypt\$1024\$8\$1\$/)
    expect(await verifyPassword('correct horse', h)).toBe(true)
    expect(await verifyPassword('correct horsf', h)).toBe(false)
  })

  it('salts each hash', async () => {
    expect(await hashPassword('pw', 1024)).not.toBe(await hashPassword('pw', 1024))
  })

  it('refuses a stored value that is not a scrypt hash', async () => {
    expect(await verifyPassword('pw', 'plain')).toBe(false)
  })
})

describe('auth.native.refuseCommonPasswords', () => {
  const users = { passwordHash: async () => undefined, setPasswordHash: async () => {}, get: async () => undefined }
  const strict = createNativeAuthenticator({ ...nativeSettings.parse({ refuseCommonPasswords: true }), users })
  const lax = createNativeAuthenticator({ ...nativeSettings.parse({}), users })
  it('refuses the most common passwords and ones containing the user name, saying why', () => {
    expect(() => strict.passwords.checkPasswordRules('Password123')).toThrow('one of the most common ones')
    expect(() => strict.passwords.checkPasswordRules('my-Ann-2026!', 'ann')).toThrow('contains the user name')
    expect(() => strict.passwords.checkPasswordRules('correct horse battery', 'ann')).not.toThrow()
    expect(() => lax.passwords.checkPasswordRules('password123', 'ann')).not.toThrow() // NativeAuthenticator's default
  })
})
