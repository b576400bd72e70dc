// Several authenticators on one login page (auth.also beside auth.kind): an identity provider's
// button and a password form, say, as a site moving to single sign-on keeps local accounts. Each
// login records which one vouched for it (Identity.via), and refresh, logout and the servers'
// environment go to that one alone, so a password user is never "refreshed" at the provider.
import type { Authenticator, Identity, RequestLoginResult } from './authenticator'

const tagged = (identity: Identity | null, via: string): Identity | null => (identity ? { ...identity, via } : null)

/** The first authenticator is auth.kind's; the others are offered beside it, in order. */
export function sideBySide(all: readonly Authenticator[]): Authenticator {
  const [primary] = all
  if (!primary) throw new Error('no authenticator')
  if (all.length === 1) return primary
  const withPassword = all.filter((a) => a.passwordForm)
  const redirect = all.find((a) => a.redirect)
  const fromRequest = all.find((a) => a.requestLogin)
  const by = (via: string | undefined) => all.find((a) => a.kind === via) ?? primary
  const notices = all.map((a) => a.loginNotice).filter((n): n is string => !!n)
  return {
    kind: primary.kind,
    passwordForm: withPassword.length > 0,
    passwords: all.find((a) => a.passwords)?.passwords,
    secondFactor: all.find((a) => a.secondFactor)?.secondFactor,
    ...(notices.length ? { loginNotice: notices.join(' ') } : {}),
    async authenticate(input) {
      // each password authenticator in turn: the first that knows the name and password
      for (const a of withPassword) {
        const identity = await a.authenticate(input)
        if (identity) return tagged(identity, a.kind)
      }
      return null
    },
    ...(redirect?.redirect
      ? {
          redirect: {
            label: redirect.redirect.label,
            auto: redirect.redirect.auto && withPassword.length === 0,
            begin: (i) => redirect.redirect!.begin(i),
            complete: async (i) => tagged(await redirect.redirect!.complete(i), redirect.kind),
          },
        }
      : {}),
    ...(fromRequest?.requestLogin
      ? {
          async requestLogin(req): Promise<RequestLoginResult> {
            const out = await fromRequest.requestLogin!(req)
            // a challenge (Negotiate) is shown with the page, whose other ways in stay offered
            return out && !('challenge' in out) ? tagged(out, fromRequest.kind) : out
          },
        }
      : {}),
    async refresh(user) {
      const a = by(user.via)
      if (!a.refresh) return undefined
      const out = await a.refresh(user)
      return out ? { ...out, via: a.kind } : out // null (log out) and undefined (unchanged) as they are
    },
    logoutUrl: (authState, afterLogout, via) => by(via).logoutUrl?.(authState, afterLogout, via),
    spawnEnv: (authState, via) => by(via).spawnEnv?.(authState, via) ?? {},
  }
}
