// The contract every authenticator must keep, as one suite: `authenticatorContract(kind, setup)`
// runs it for one plug-in (test/contracts/authenticators.test.ts lists them; a new one adds one line
// there). Accounts are made the way the plug-in's accounts are made (setup.addUser).
import { describe, expect, it } from 'vitest'
import type { Authenticator } from '../../auth/src'
import { HubError } from '../../runtime/src/errors'

export interface AuthenticatorUnderTest {
  authenticator: Authenticator
  /** Makes an account that may log in with this password. */
  addUser(name: string, password: string): Promise<void>
  /** The authenticator takes any password (the dummy one): refusals are not expected of it. */
  acceptsAnyPassword?: boolean
}

/** The kinds authenticatorContract was called for: authenticators.test.ts checks every registered one is. */
export const contractKinds = new Set<string>()

export function authenticatorContract(kind: string, setup: () => Promise<AuthenticatorUnderTest>): void {
  contractKinds.add(kind)
  describe(`authenticator contract: ${kind}`, () => {
    let n = 0
    const fresh = () => `ac${process.pid % 1000}x${++n}`

    it('is registered under its kind and asks for what its login page shows', async () => {
      const { authenticator } = await setup()
      expect(authenticator.kind).toBe(kind)
      expect(authenticator.passwordForm).toBe(true)
    })

    it('logs a user in with the right password, under the name it was given (already normalised by the hub)', async () => {
      const u = await setup()
      const name = fresh()
      await u.addUser(name, 'correct horse battery')
      expect(await u.authenticator.authenticate({ username: name, password: 'correct horse battery' })).toEqual({
        name,
      })
    })

    it('refuses a wrong password and an unknown user alike, with null (not an error)', async () => {
      const u = await setup()
      if (u.acceptsAnyPassword) return
      const name = fresh()
      await u.addUser(name, 'correct horse battery')
      expect(await u.authenticator.authenticate({ username: name, password: 'wrong horse battery' })).toBeNull()
      expect(await u.authenticator.authenticate({ username: name, password: '' })).toBeNull()
      expect(await u.authenticator.authenticate({ username: fresh(), password: 'correct horse battery' })).toBeNull()
    })

    it('with passwords kept by the hub: sets, changes and checks them, with errors that name the rule', async () => {
      const u = await setup()
      const p = u.authenticator.passwords
      if (!p) return // the capability is optional; without it the hub shows no password pages
      const name = fresh()
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
  })
}
