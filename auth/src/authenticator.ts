// The authenticator contract: turn a login into an identity, or refuse, and say what else the
// authenticator does, so the hub's pages follow its capabilities rather than its kind.
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json }

export interface Identity {
  name: string
  /**
   * Admin by the authenticator (an admin group at the identity provider): true makes the user an
   * admin, false takes it away unless the configuration makes them one (auth.admins,
   * auth.adminGroups), undefined leaves it as it is (JupyterHub's admin in the auth model).
   */
  admin?: boolean
  /**
   * The groups the identity provider puts the user in. They decide auth.allowedGroups and
   * auth.adminGroups at this login; with auth.manageGroups the hub's groups follow them (joined and
   * left at every login and refresh), as JupyterHub's Authenticator.manage_groups.
   */
  groups?: string[]
  /**
   * What the authenticator keeps of this login (tokens, claims): JupyterHub's auth_state, stored
   * encrypted when auth.enableAuthState is set (else dropped), given back to refresh and spawnEnv.
   */
  authState?: { [k: string]: Json }
  /**
   * Which authenticator vouched for this login, when several are offered side by side (auth.also):
   * set by the combination, kept with the auth state, and given back to refresh, logoutUrl and
   * spawnEnv so each goes to the authenticator the user logged in with.
   */
  via?: string
}

export interface LoginInput {
  username: string
  password: string
  /**
   * Whether an authenticator that makes accounts or sets first passwords at login (first-use) may do
   * so for this name: the login policy lets it in by itself (auth.blocked, auth.allowed, the hub's
   * groups) and the configuration does not make it an admin (auth.admins, auth.adminGroups), whose
   * password only an admin or the operator sets. False: no account and no first password.
   */
  mayClaim?: boolean
  /** The login form's authentication code, for users with a second factor (secondFactor). */
  otp?: string
}

/**
 * A second factor the hub's pages manage (the native authenticator's TOTP, NativeAuthenticator's
 * allow_2fa): the login form asks for a code, and each user turns it on or off on /hub/two-factor.
 */
export interface SecondFactor {
  /** Whether `name` must give a code at login. */
  enabled(name: string): Promise<boolean>
  /** A new secret for `name`'s authenticator app, and its otpauth:// address. */
  proposal(name: string): { secret: string; uri: string }
  /** Turns it on once a current code proves the app has `secret`; BadRequest otherwise. */
  enable(name: string, secret: string, code: string): Promise<void>
  /** Turns it off with a current code; BadRequest otherwise. */
  disable(name: string, code: string): Promise<void>
  /** An admin's reset (a lost phone): off without a code. */
  reset(name: string): Promise<void>
}

/** Accounts whose passwords the hub keeps (the native authenticator): set, change, sign up. */
export interface PasswordManagement {
  /** May people sign up on the login page (their accounts then wait for an admin's approval)? */
  signup: boolean
  /** BadRequest naming the rule a new password breaks (`name`: the account's, for rules about it). */
  checkPasswordRules(password: string, name?: string): void
  /** The hash to store for a password (scrypt, with the configured cost). */
  hash(password: string): Promise<string>
  setPassword(name: string, password: string): Promise<void>
  changePassword(name: string, oldPassword: string, newPassword: string): Promise<void>
}

/**
 * A login at an identity provider the browser is sent to (OAuth 2 / OpenID Connect, LTI): the hub
 * keeps each flow in Redis under its `state` for a few minutes, bound to the browser by a cookie, so
 * the callback may land on any replica and a callback the browser did not begin is refused.
 */
export interface RedirectLogin {
  /** The login page's button: "Sign in with {label}". */
  label: string
  /** Skip the login page and go straight to the provider (JupyterHub's auto_login). */
  auto: boolean
  /**
   * The provider's URL for a login begun now, and what the callback needs of it (a PKCE verifier,
   * a nonce), kept by the hub with `state` and handed back to complete.
   */
  begin(input: { state: string; callbackUrl: string }): Promise<{ url: string; flow: { [k: string]: Json } }>
  /**
   * The identity for the provider's callback (the query or form it sent, its state already matched
   * by the hub), or null to refuse. Throw a HubError with a message for the person to read (the
   * provider said access_denied, a claim is missing).
   */
  complete(input: {
    params: URLSearchParams
    flow: { [k: string]: Json }
    callbackUrl: string
  }): Promise<Identity | null>
}

/** What a login from the request itself (a trusted front's header, Kerberos' Negotiate) answers. */
export type RequestLoginResult =
  | Identity
  | null
  /** Ask the browser for more: a 401 with these headers (WWW-Authenticate: Negotiate). */
  | { challenge: Record<string, string> }

export interface Authenticator {
  kind: string
  /**
   * The password form's login: the identity, or null to refuse. The name is already normalized and
   * valid. Called only when passwordForm is true.
   */
  authenticate(input: LoginInput): Promise<Identity | null>
  /** The login page's form asks for a user name and a password. */
  passwordForm: boolean
  /** Present when the hub keeps the accounts' passwords: the change-password page, the admin page's passwords, sign-up. */
  passwords?: PasswordManagement
  /** Present when users may add a second factor (auth.native.allow2fa): the login form's code field, /hub/two-factor. */
  secondFactor?: SecondFactor
  /** Said on the login page (the dummy authenticator's warning). */
  loginNotice?: string
  /** Present for logins at an identity provider: "Sign in with …" on the login page, /hub/oauth_login and /hub/oauth_callback. */
  redirect?: RedirectLogin
  /**
   * Present for logins the request itself carries (GET /hub/login): a trusted front's header
   * (remote user), a Kerberos ticket. `address` is the client's address as the proxy saw it.
   */
  requestLogin?(request: { headers: Headers; address: string }): Promise<RequestLoginResult>
  /**
   * Checks a logged-in user again (JupyterHub's refresh_user): before a spawn and every
   * auth.refreshAgeSec. An identity updates groups, admin and auth state; undefined: nothing changed;
   * null: no longer valid, so the user's sessions end and a spawn is refused until they log in again.
   */
  refresh?(user: {
    name: string
    authState?: { [k: string]: Json }
    via?: string
  }): Promise<Identity | null | undefined>
  /** Where logout sends the browser after the hub's own logout (the provider's end-session URL). */
  logoutUrl?(authState: { [k: string]: Json } | undefined, afterLogout: string, via?: string): string | undefined
  /** Environment for the user's servers from the auth state (an access token, say): JupyterHub's pre_spawn_start. */
  spawnEnv?(authState: { [k: string]: Json } | undefined, via?: string): Record<string, string>
}
