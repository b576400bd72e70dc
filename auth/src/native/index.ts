// native: users and scrypt password hashes in Redis. Admins create accounts; optional self sign-up
// creates accounts that wait for an admin's approval.
import type { Authenticator, Identity, LoginInput, PasswordManagement } from '../authenticator'
import type { NativeSettings } from './settings'
import { BadRequest, Forbidden } from '../../../runtime/src/errors'
import { decoyHash, hashPassword, verifyPassword } from './password'

/**
 * Where native accounts live: what this authenticator needs of the hub's user store (the hub's
 * state/users.ts provides it, in Redis), so it depends on no hub internals.
 */
export interface PasswordAccounts {
  /** The stored scrypt hash of `name`'s password; undefined without an account or a password. */
  passwordHash(name: string): Promise<string | undefined>
  setPasswordHash(name: string, hash: string): Promise<void>
  /** The account's approval (sign-ups wait for an admin's); undefined without an account. */
  get(name: string): Promise<{ approved: boolean } | undefined>
  /**
   * Gives `name` its first password in one step (first-use logins): the account made with it when
   * there is none and `create`, or the hash set when the account has no password yet. false when a
   * password is set already (by a login a moment ago), or there is no account and not `create`.
   */
  claimFirstPassword?(name: string, hash: string, opts: { create: boolean }): Promise<boolean>
}

export interface NativeOptions extends NativeSettings {
  users: PasswordAccounts
}

export function createNativeAuthenticator(o: NativeOptions): Authenticator & { passwords: PasswordManagement } {
  const checkPasswordRules = (pw: string) => {
    if (pw.length < o.minPasswordLength)
      throw new BadRequest(`the password must have at least ${o.minPasswordLength} characters`, 'weak_password')
    if (pw.length > 1024) throw new BadRequest('the password is longer than 1024 characters', 'weak_password')
  }
  const hash = (pw: string) => hashPassword(pw, o.scryptCost)
  return {
    kind: 'native',
    passwordForm: true,
    async authenticate({ username, password }: LoginInput): Promise<Identity | null> {
      const stored = await o.users.passwordHash(username)
      const ok = await verifyPassword(password, stored ?? (await decoyHash(o.scryptCost)))
      if (!stored || !ok) return null
      const user = await o.users.get(username)
      if (!user) return null
      if (!user.approved) throw new Forbidden("your account is waiting for an administrator's approval")
      return { name: username }
    },
    passwords: {
      signup: o.allowSignup,
      checkPasswordRules,
      hash,
      async setPassword(name: string, password: string) {
        checkPasswordRules(password)
        await o.users.setPasswordHash(name, await hash(password))
      },
      async changePassword(name: string, oldPassword: string, newPassword: string) {
        const stored = await o.users.passwordHash(name)
        if (!stored || !(await verifyPassword(oldPassword, stored)))
          throw new BadRequest('the current password is wrong', 'wrong_password')
        checkPasswordRules(newPassword)
        await o.users.setPasswordHash(name, await hash(newPassword))
      },
    },
  }
}
