import { describe, expect, it } from 'vitest'
import { hashPassword, verifyPassword } from './password'

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
