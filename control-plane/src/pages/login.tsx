import { Block, Layout, XsrfField } from './layout'
import { branding } from '../branding/branding'

export function LoginPage(p: {
  xsrf: string
  next: string
  error?: string
  username?: string
  signup: boolean
  notice?: string
  authNotice?: string
  /** The authenticator's password form (false: only the identity provider's button). */
  passwordForm?: boolean
  /** "Sign in with …" at the identity provider, when the authenticator has a redirect login. */
  redirectLabel?: string
  /** Ask for an authentication code too (users with a second factor give theirs). */
  otpField?: boolean
}) {
  const withPassword = p.passwordForm ?? true
  const b = branding()
  return (
    <Layout title="Log in" banner={b.announcementLogin}>
      <div class="card" style="max-width:420px;margin:0 auto">
        <h1>Log in</h1>
        <Block name="login">{b.loginText ? <p id="login-text">{b.loginText}</p> : null}</Block>
        {p.notice ? <div class="notice">{p.notice}</div> : null}
        {p.error ? (
          <div class="error" role="alert">
            {p.error}
          </div>
        ) : null}
        {p.authNotice ? <div class="notice">{p.authNotice}</div> : null}
        {p.redirectLabel ? (
          <a class="btn" id="oauth_login" href={`/hub/oauth_login?next=${encodeURIComponent(p.next)}`}>
            Sign in with {p.redirectLabel}
          </a>
        ) : null}
        {p.redirectLabel && withPassword ? <p class="muted">or with a user name and password:</p> : null}
        {withPassword ? (
          <form method="post" action={`/hub/login?next=${encodeURIComponent(p.next)}`}>
            <XsrfField value={p.xsrf} />
            <label for="username">User name</label>
            <input
              id="username"
              name="username"
              type="text"
              autocomplete="username"
              autocapitalize="none"
              autofocus
              required
              value={p.username ?? ''}
            />
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
            {p.otpField ? (
              <>
                <label for="otp">Authentication code (if you turned two-factor authentication on)</label>
                <input id="otp" name="otp" type="text" inputmode="numeric" autocomplete="one-time-code" />
              </>
            ) : null}
            <button type="submit" id="login_submit">
              Log in
            </button>
          </form>
        ) : null}
        {p.signup ? (
          <p class="muted">
            No account? <a href="/hub/signup">Sign up</a>
          </p>
        ) : null}
      </div>
    </Layout>
  )
}

export function SignupPage(p: { xsrf: string; error?: string; done?: boolean; username?: string; minLength: number }) {
  return (
    <Layout title="Sign up">
      <div class="card" style="max-width:420px;margin:0 auto">
        <h1>Sign up</h1>
        {p.done ? (
          <div class="notice">Your account was created. An administrator must approve it before you can log in.</div>
        ) : (
          <form method="post" action="/hub/signup">
            {p.error ? (
              <div class="error" role="alert">
                {p.error}
              </div>
            ) : null}
            <XsrfField value={p.xsrf} />
            <label for="username">User name</label>
            <input id="username" name="username" type="text" autocapitalize="none" required value={p.username ?? ''} />
            <label for="password">Password (at least {p.minLength} characters)</label>
            <input id="password" name="password" type="password" autocomplete="new-password" required />
            <button type="submit">Create account</button>
          </form>
        )}
        <p class="muted">
          <a href="/hub/login">Back to log in</a>
        </p>
      </div>
    </Layout>
  )
}

export function ChangePasswordPage(p: {
  xsrf: string
  user: { name: string; admin: boolean }
  error?: string
  done?: boolean
}) {
  return (
    <Layout title="Change password" user={p.user}>
      <div class="card" style="max-width:420px;margin:0 auto">
        <h1>Change password</h1>
        {p.done ? <div class="notice">Your password was changed.</div> : null}
        {p.error ? (
          <div class="error" role="alert">
            {p.error}
          </div>
        ) : null}
        <form method="post" action="/hub/change-password">
          <XsrfField value={p.xsrf} />
          <label for="old">Current password</label>
          <input id="old" name="old_password" type="password" autocomplete="current-password" required />
          <label for="new">New password</label>
          <input id="new" name="new_password" type="password" autocomplete="new-password" required />
          <button type="submit">Change password</button>
        </form>
      </div>
    </Layout>
  )
}
