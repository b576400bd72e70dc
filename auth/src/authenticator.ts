// The authenticator contract: turn a login form into an identity, or refuse.
export interface Identity {
  name: string
  admin?: boolean
}

export interface LoginInput {
  username: string
  password: string
}

export interface Authenticator {
  kind: string
  /** The identity, or null to refuse. The name is already normalized and valid. */
  authenticate(input: LoginInput): Promise<Identity | null>
  /** Native accounts: may users sign up, and change their password here? */
  signup?: boolean
  changePassword?(name: string, oldPassword: string, newPassword: string): Promise<void>
}
