// The PAM authenticator with the machine's real PAM stack (Debian's login service) and accounts made
// here with useradd and chpasswd. Needs root: checking another account's password reads /etc/shadow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { createPamAuthenticator } from './index'
import { pamSettings } from './settings'
import { addAccount, isRoot, removeAccounts, testPrefix } from '../../../test/support/accounts'
import { HubError } from '../../../runtime/src/errors'

const prefix = testPrefix()
const ann = `${prefix}ann`
const old = `${prefix}old`
const group = `${prefix}lab`
const setPassword = (name: string, password: string) => execFileSync('chpasswd', { input: `${name}:${password}\n` })

describe.skipIf(!isRoot)('pam authenticator (as root)', () => {
  beforeAll(() => {
    execFileSync('groupadd', [group])
    addAccount(ann, [group])
    setPassword(ann, 'ann-unix-password')
    addAccount(old)
    setPassword(old, 'old-unix-password')
    execFileSync('chage', ['-E', '0', old]) // expired long ago
  })
  afterAll(() => {
    expect(removeAccounts(prefix)).toEqual([])
  })

  const pam = createPamAuthenticator(pamSettings.parse({}))

  it('logs in with the Unix password, with the Unix groups', async () => {
    const id = await pam.authenticate({ username: ann, password: 'ann-unix-password' })
    expect(id?.name).toBe(ann)
    expect(id?.groups).toEqual(expect.arrayContaining([ann, group]))
  })

  it('refuses a wrong or empty password, and names it could not be', async () => {
    expect(await pam.authenticate({ username: ann, password: 'wrong' })).toBeNull()
    expect(await pam.authenticate({ username: ann, password: '' })).toBeNull()
    expect(await pam.authenticate({ username: '../etc', password: 'x' })).toBeNull()
    expect(await pam.authenticate({ username: `${prefix}nobody`, password: 'x' })).toBeNull()
  })

  it('refuses an expired account with the reason, and lets it in without the account checks', async () => {
    const err = await pam.authenticate({ username: old, password: 'old-unix-password' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HubError)
    expect((err as HubError).status).toBe(403)
    expect((err as HubError).message).toMatch(/^this account may not log in: /)
    const lax = createPamAuthenticator(pamSettings.parse({ checkAccount: false }))
    expect((await lax.authenticate({ username: old, password: 'old-unix-password' }))?.name).toBe(old)
  })

  it('refuses a locked account', async () => {
    execFileSync('usermod', ['-L', ann])
    try {
      expect(await pam.authenticate({ username: ann, password: 'ann-unix-password' })).toBeNull()
    } finally {
      execFileSync('usermod', ['-U', ann])
    }
  })
})
