// native: users and scrypt password hashes in Redis. Admins create accounts; optional self sign-up
// creates accounts that wait for an admin's approval.
import type { Authenticator, Identity, LoginInput } from '../authenticator'
import type { Users } from '../../../control-plane/src/state/users'
import { BadRequest, Forbidden } from '../../../control-plane/src/errors'
import { decoyHash, hashPassword, verifyPassword } from './password'

export interface NativeOptions {
  users: Users
  allowSignup: boolean
  minPasswordLength: number
  scryptCost: number
}

export function createNativeAuthenticator(o: NativeOptions): Authenticator & {
  setPassword(name: string, password: string): Promise<void>
  hash(password: string): Promise<string>
  checkPasswordRules(password: string): void
} {
  const checkPasswordRules = (pw: string) => {
    if (pw.length < o.minPasswordLength) throw new BadRequest(`the password must have at least ${o.minPasswordLength} characters`, 'weak_password')
    if (pw.length > 1024) throw new BadRequest('the password is longer than 1024 characters', 'weak_password')
  }
  const hash = (pw: string) => hashPassword(pw, o.scryptCost)
  return {
    kind: 'native',
    signup: o.allowSignup,
    checkPasswordRules,
    hash,
    async authenticate({ username, password }: LoginInput): Promise<Identity | null> {
      const stored = await o.users.passwordHash(username)
      const ok = await verifyPassword(password, stored ?? (await decoyHash(o.scryptCost)))
      if (!stored || !ok) return null
      const user = await o.users.get(username)
      if (!user) return null
      if (!user.approved) throw new Forbidden('your account is waiting for an administrator\'s approval')
      return { name: username }
    },
    async setPassword(name: string, password: string) {
      checkPasswordRules(password)
      await o.users.setPasswordHash(name, await hash(password))
    },
    async changePassword(name: string, oldPassword: string, newPassword: string) {
      const stored = await o.users.passwordHash(name)
      if (!stored || !(await verifyPassword(oldPassword, stored))) throw new BadRequest('the current password is wrong', 'wrong_password')
      checkPasswordRules(newPassword)
      await o.users.setPasswordHash(name, await hash(newPassword))
    },
  }
}
