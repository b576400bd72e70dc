// native: users and scrypt password hashes in Redis. Admins create accounts; optional self sign-up
// creates accounts that wait for an admin's approval.
import type { Authenticator, Identity, LoginInput, PasswordManagement, SecondFactor } from '../authenticator'
import { matchTotp, newTotpSecret, otpauthUri } from './totp'
import { COMMON_PASSWORDS } from './common-passwords'
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
  get(name: string): Promise<{ approved: boolean; admin?: boolean } | undefined>
  /**
   * Gives `name` its first password in one step (first-use logins): the account made with it when
   * there is none and `create`, or the hash set when the account has no password yet. false when a
   * password is set already (by a login a moment ago), or there is no account and not `create`.
   */
  claimFirstPassword?(name: string, hash: string, opts: { create: boolean }): Promise<boolean>
  /** The account's TOTP secret (second factor), undefined when it has none. */
  otpSecret?(name: string): Promise<string | undefined>
  /** Sets or (undefined) removes the account's TOTP secret. */
  setOtpSecret?(name: string, secret: string | undefined): Promise<void>
  /** Records a time step's code as used; false when that step or a later one was used (a replay). */
  useOtpStep?(name: string, step: number): Promise<boolean>
}

export interface NativeOptions extends NativeSettings {
  users: PasswordAccounts
}

export function createNativeAuthenticator(o: NativeOptions): Authenticator & { passwords: PasswordManagement } {
  const checkPasswordRules = (pw: string, name?: string) => {
    if (pw.length < o.minPasswordLength)
      throw new BadRequest(`the password must have at least ${o.minPasswordLength} characters`, 'weak_password')
    if (pw.length > 1024) throw new BadRequest('the password is longer than 1024 characters', 'weak_password')
    if (o.refuseCommonPasswords) {
      if (COMMON_PASSWORDS.has(pw.toLowerCase()))
        throw new BadRequest('the password is one of the most common ones: choose another', 'weak_password')
      if (name && pw.toLowerCase().includes(name.toLowerCase()))
        throw new BadRequest('the password contains the user name: choose another', 'weak_password')
    }
  }
  const hash = (pw: string) => hashPassword(pw, o.scryptCost)
  const secondFactor = o.allow2fa ? totpFactor(o.users, o.issuer) : undefined
  return {
    kind: 'native',
    passwordForm: true,
    ...(secondFactor ? { secondFactor } : {}),
    async authenticate({ username, password, otp }: LoginInput): Promise<Identity | null> {
      const stored = await o.users.passwordHash(username)
      const ok = await verifyPassword(password, stored ?? (await decoyHash(o.scryptCost)))
      if (!stored || !ok) return null
      const user = await o.users.get(username)
      if (!user) return null
      // with a second factor, a current code not used before (each code logs in once)
      const secret = secondFactor && (await o.users.otpSecret?.(username))
      if (secret) {
        const step = matchTotp(secret, otp ?? '')
        if (step === undefined || !(await o.users.useOtpStep!(username, step))) return null
      }
      if (!user.approved) throw new Forbidden("your account is waiting for an administrator's approval")
      return { name: username }
    },
    passwords: {
      signup: o.allowSignup,
      checkPasswordRules,
      hash,
      async setPassword(name: string, password: string) {
        checkPasswordRules(password, name)
        await o.users.setPasswordHash(name, await hash(password))
      },
      async changePassword(name: string, oldPassword: string, newPassword: string) {
        const stored = await o.users.passwordHash(name)
        if (!stored || !(await verifyPassword(oldPassword, stored)))
          throw new BadRequest('the current password is wrong', 'wrong_password')
        checkPasswordRules(newPassword, name)
        await o.users.setPasswordHash(name, await hash(newPassword))
      },
    },
  }
}

/** TOTP as a second factor, kept in the account store (PasswordAccounts' otp methods). */
function totpFactor(users: PasswordAccounts, issuer: string): SecondFactor {
  const { otpSecret, setOtpSecret, useOtpStep } = users
  if (!otpSecret || !setOtpSecret || !useOtpStep)
    throw new Error('auth.native.allow2fa needs an account store that keeps second factors')
  const current = async (name: string, secret: string, code: string) => {
    const step = matchTotp(secret, code.replace(/\s/g, ''))
    if (step === undefined || !(await useOtpStep.call(users, name, step)))
      throw new BadRequest('the authentication code is wrong or was used already; wait for the next one', 'wrong_code')
  }
  return {
    enabled: async (name) => !!(await otpSecret.call(users, name)),
    proposal: (name) => {
      const secret = newTotpSecret()
      return { secret, uri: otpauthUri(issuer, name, secret) }
    },
    async enable(name, secret, code) {
      // a factor that is on is turned off first, with one of its own codes: a session alone (a
      // stolen cookie, a script) cannot swap in a key of its own
      if (await otpSecret.call(users, name))
        throw new BadRequest('two-factor authentication is already on; turn it off first', 'already_on')
      if (!/^[A-Z2-7]{32}$/.test(secret)) throw new BadRequest('the secret is not one this page made', 'bad_secret')
      await current(name, secret, code)
      await setOtpSecret.call(users, name, secret)
    },
    async disable(name, code) {
      const secret = await otpSecret.call(users, name)
      if (!secret) return
      await current(name, secret, code)
      await setOtpSecret.call(users, name, undefined)
    },
    async reset(name) {
      await setOtpSecret.call(users, name, undefined)
    },
  }
}
