// first-use: The Littlest JupyterHub's default authenticator (FirstUseAuthenticator). A name's first
// login sets its password, kept as a scrypt hash in the hub's user store; later logins must give it.
// With createUsers false, only users the hub knows may log in. With a shared (workshop) password,
// every login gives that one password and nobody has one of their own.
import { timingSafeEqual } from 'node:crypto'
import type { Authenticator, Identity, LoginInput, PasswordManagement } from '../authenticator'
import type { PasswordAccounts } from '../native'
import type { FirstUseSettings } from './settings'
import { BadRequest } from '../../../runtime/src/errors'
import { decoyHash, hashPassword, verifyPassword } from '../native/password'

function samePassword(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

export function createFirstUseAuthenticator(o: FirstUseSettings & { users: PasswordAccounts }): Authenticator {
  const checkPasswordRules = (pw: string) => {
    if (pw.length < o.minPasswordLength)
      throw new BadRequest(`the password must have at least ${o.minPasswordLength} characters`, 'weak_password')
    if (pw.length > 1024) throw new BadRequest('the password is longer than 1024 characters', 'weak_password')
  }
  const hash = (pw: string) => hashPassword(pw, o.scryptCost)
  const claim = o.users.claimFirstPassword?.bind(o.users)
  if (!claim) throw new Error('the first-use authenticator needs an account store that can set first passwords')

  if (o.sharedPassword !== undefined) {
    const shared = o.sharedPassword
    return {
      kind: 'first-use',
      passwordForm: true,
      loginNotice: 'Log in with any user name and the workshop password you were given.',
      async authenticate({ username, password, mayClaim = false }: LoginInput): Promise<Identity | null> {
        if (!samePassword(password, shared)) return null
        const account = await o.users.get(username)
        // the workshop password never opens an admin's account (an admin logs in otherwise)
        if (!mayClaim || account?.admin || (!account && !o.createUsers)) return null
        return { name: username }
      },
    }
  }

  const passwords: PasswordManagement = {
    signup: false,
    checkPasswordRules,
    hash,
    async setPassword(name, password) {
      checkPasswordRules(password)
      await o.users.setPasswordHash(name, await hash(password))
    },
    async changePassword(name, oldPassword, newPassword) {
      const stored = await o.users.passwordHash(name)
      if (!stored || !(await verifyPassword(oldPassword, stored)))
        throw new BadRequest('the current password is wrong', 'wrong_password')
      checkPasswordRules(newPassword)
      await o.users.setPasswordHash(name, await hash(newPassword))
    },
  }
  return {
    kind: 'first-use',
    passwordForm: true,
    loginNotice: o.createUsers
      ? 'New here? Choose a user name and a password: your first login creates your account.'
      : 'First login? The password you give now becomes your password.',
    passwords,
    async authenticate({ username, password, mayClaim = false }: LoginInput): Promise<Identity | null> {
      const stored = await o.users.passwordHash(username)
      if (stored) return (await verifyPassword(password, stored)) ? { name: username } : null
      // the first login: a password the rules accept becomes the account's. Never for a name the
      // policy refuses (the account would be left behind), nor an admin's (only an admin or the
      // operator sets an admin's password): refused as a wrong password, as long as a real check.
      const account = await o.users.get(username)
      if (!mayClaim || account?.admin || (!account && !o.createUsers)) {
        await verifyPassword(password, await decoyHash(o.scryptCost))
        return null
      }
      checkPasswordRules(password)
      if (await claim(username, await hash(password), { create: o.createUsers })) return { name: username }
      // another login set it a moment ago: this one must match it
      const now = await o.users.passwordHash(username)
      return now && (await verifyPassword(password, now)) ? { name: username } : null
    },
  }
}
