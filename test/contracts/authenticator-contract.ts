// The contract every authenticator must keep, as one suite: `authenticatorContract(kind, setup)`
// runs it for one plug-in (test/contracts/authenticators.test.ts lists them; a new one adds one line
// there). Accounts are made the way the plug-in's accounts are made (setup.addUser). The password
// sections run for authenticators with the password form, the redirect section for those with a
// redirect login (against the provider their setup starts).
import { describe, expect, it } from 'vitest'
import type { Authenticator } from '../../auth/src'
import { HubError } from '../../runtime/src/errors'

/** The callback URL redirect logins are begun with (never reached: the tests stop before the provider redirects). */
const CALLBACK = 'http://127.0.0.1:9/hub/oauth_callback'

export interface AuthenticatorUnderTest {
  authenticator: Authenticator
  /** Makes an account that may log in with this password (authenticators with the password form). */
  addUser(name: string, password: string): Promise<void>
  /** The authenticator takes any password (the dummy one): refusals are not expected of it. */
  acceptsAnyPassword?: boolean
  /** What every account name the suite makes starts with (pam: the test's own prefix, so they are removed). */
  namePrefix?: string
}

/** The kinds authenticatorContract was called for: authenticators.test.ts checks every registered one is. */
export const contractKinds = new Set<string>()

/** `skip`: why this plug-in cannot run here (PAM without root); it still counts as listed. */
export function authenticatorContract(
  kind: string,
  setup: () => Promise<AuthenticatorUnderTest>,
  opts: { skip?: string } = {},
): void {
  contractKinds.add(kind)
  describe.skipIf(!!opts.skip)(`authenticator contract: ${kind}${opts.skip ? ` (skipped: ${opts.skip})` : ''}`, () => {
    let n = 0
    const fresh = () => `ac${process.pid % 1000}x${++n}`
    /** A fresh account name for this plug-in (its namePrefix first: the machine's accounts for pam). */
    const named = (u: AuthenticatorUnderTest) => `${u.namePrefix ?? ''}${fresh()}`

    it('is registered under its kind and asks for what its login page shows', async () => {
      const { authenticator } = await setup()
      expect(authenticator.kind).toBe(kind)
      // the login page offers a way in: the password form, the provider's button, or the request itself
      expect(authenticator.passwordForm || !!authenticator.redirect || !!authenticator.requestLogin).toBe(true)
      if (authenticator.redirect) expect(authenticator.redirect.label).toMatch(/\S/)
    })

    it('logs a user in with the right password, under the name it was given (already normalised by the hub)', async () => {
      const u = await setup()
      if (!u.authenticator.passwordForm) return
      const name = named(u)
      await u.addUser(name, 'correct horse battery')
      // under that name (with groups or auth state, when the authenticator reports them)
      expect(await u.authenticator.authenticate({ username: name, password: 'correct horse battery' })).toMatchObject({
        name,
      })
    })

    it('refuses a wrong password and an unknown user alike, with null (not an error)', async () => {
      const u = await setup()
      if (u.acceptsAnyPassword || !u.authenticator.passwordForm) return
      const name = named(u)
      await u.addUser(name, 'correct horse battery')
      expect(await u.authenticator.authenticate({ username: name, password: 'wrong horse battery' })).toBeNull()
      expect(await u.authenticator.authenticate({ username: name, password: '' })).toBeNull()
      expect(await u.authenticator.authenticate({ username: named(u), password: 'correct horse battery' })).toBeNull()
    })

    it('with passwords kept by the hub: sets, changes and checks them, with errors that name the rule', async () => {
      const u = await setup()
      const p = u.authenticator.passwords
      if (!p) return // the capability is optional; without it the hub shows no password pages
      const name = named(u)
      await u.addUser(name, 'first password')
      await p.setPassword(name, 'second password')
      expect(await u.authenticator.authenticate({ username: name, password: 'first password' })).toBeNull()
      expect(await u.authenticator.authenticate({ username: name, password: 'second password' })).toEqual({ name })
      const wrongOld = await p.changePassword(name, 'not it', 'third password').catch((e: unknown) => e)
      expect(wrongOld).toBeInstanceOf(HubError)
      expect((wrongOld as HubError).status).toBe(400)
      await p.changePassword(name, 'second password', 'third password')
      expect(await u.authenticator.authenticate({ username: name, password: 'third password' })).toEqual({ name })
      expect(() => p.checkPasswordRules('x')).toThrow(/at least/)
      expect(() => p.checkPasswordRules('x'.repeat(1025))).toThrow(/longer than 1024/)
      expect(await p.hash('a password')).not.toContain('a password')
    })

    it('with a request login: a request carrying nothing names nobody (null or a challenge, never an identity)', async () => {
      const login = (await setup()).authenticator.requestLogin
      if (!login) return
      const out = await login({ headers: new Headers(), address: '127.0.0.1' })
      if (out !== null) expect(out).toHaveProperty('challenge')
      const empty = await login({
        headers: new Headers({ 'x-remote-user': '', 'remote-user': '' }),
        address: '127.0.0.1',
      })
      if (empty !== null) expect(empty).toHaveProperty('challenge')
    })

    it('with a redirect login: begin gives the provider URL carrying the state, and a flow kept as JSON', async () => {
      const r = (await setup()).authenticator.redirect
      if (!r) return
      const state = `st-${fresh()}`
      const a = await r.begin({ state, callbackUrl: CALLBACK })
      const url = new URL(a.url)
      expect(url.protocol).toMatch(/^https?:$/)
      expect(url.searchParams.get('state')).toBe(state)
      expect(JSON.parse(JSON.stringify(a.flow))).toEqual(a.flow) // the hub keeps it in Redis as JSON
      const b = await r.begin({ state: `st-${fresh()}`, callbackUrl: CALLBACK })
      expect(b.url).not.toBe(a.url) // each login its own (a PKCE challenge, a nonce)
    })

    it('with a redirect login: complete with a bad code refuses (null, or an error the person reads)', async () => {
      const r = (await setup()).authenticator.redirect
      if (!r) return
      const state = `st-${fresh()}`
      const { flow } = await r.begin({ state, callbackUrl: CALLBACK })
      const params = new URLSearchParams({ code: 'not-a-code', state })
      const out = await r.complete({ params, flow, callbackUrl: CALLBACK }).catch((e: unknown) => e)
      if (out === null) return
      expect(out).toBeInstanceOf(HubError)
      expect((out as HubError).expose).toBe(true)
      expect((out as HubError).status).toBeGreaterThanOrEqual(400)
    })
  })
}
