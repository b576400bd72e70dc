// The authenticator contract: turn a login into an identity, or refuse, and say what else the
// authenticator does, so the hub's pages follow its capabilities rather than its kind.
export interface Identity {
  name: string
  admin?: boolean
}

export interface LoginInput {
  username: string
  password: string
}

/** Accounts whose passwords the hub keeps (the native authenticator): set, change, sign up. */
export interface PasswordManagement {
  /** May people sign up on the login page (their accounts then wait for an admin's approval)? */
  signup: boolean
  /** BadRequest naming the rule a new password breaks. */
  checkPasswordRules(password: string): void
  /** The hash to store for a password (scrypt, with the configured cost). */
  hash(password: string): Promise<string>
  setPassword(name: string, password: string): Promise<void>
  changePassword(name: string, oldPassword: string, newPassword: string): Promise<void>
}

export interface Authenticator {
  kind: string
  /** The identity, or null to refuse. The name is already normalized and valid. */
  authenticate(input: LoginInput): Promise<Identity | null>
  /** The login page's form asks for a user name and a password (every authenticator here does). */
  passwordForm: boolean
  /** Present when the hub keeps the accounts' passwords: the change-password page, the admin page's passwords, sign-up. */
  passwords?: PasswordManagement
  /** Said on the login page (the dummy authenticator's warning). */
  loginNotice?: string
}
