// Kerberos (SPNEGO) logins against a real MIT KDC (krb5-kdc) started here: the login page asks with
// 401 Negotiate, a browser's real ticket for the hub's service (kinit, then GSSAPI's token) logs in
// through the proxy; a ticket for another service or a forged token does not; a password
// authenticator offered beside it (auth.also) gives browsers without a ticket the form.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { Client, json } from '../../support/client'
import { hasKdc, REALM, startKdc, type Kdc } from '../../support/kdc'

type KerberosModule = typeof import('kerberos')
let k: KerberosModule | undefined
let kdc: Kdc
let stack: Stack

/** The Negotiate token a browser holding `cache`'s ticket sends for `service`. */
async function negotiate(cache: string, service: string): Promise<string> {
  process.env.KRB5_CONFIG = kdc.krb5Config
  process.env.KRB5CCNAME = cache
  const client = await k!.initializeClient(service, { mechOID: k!.GSS_MECH_OID_SPNEGO })
  return client.step('')
}

describe.skipIf(!hasKdc)('Kerberos login', () => {
  beforeAll(async () => {
    k = await import('kerberos').then((m) => ((m as { default?: KerberosModule }).default ?? m) as KerberosModule)
    kdc = await startKdc()
    kdc.addUser('ann', 'ann-kerberos-pw')
    const keytab = kdc.keytab('HTTP/localhost')
    kdc.keytab('HTTP/elsewhere') // a service principal the hub has no key for
    stack = await startStack({
      auth: {
        kind: 'kerberos',
        also: ['native'], // a password form beside the ticket, for browsers without one
        kerberos: { keytab, krb5Config: kdc.krb5Config, service: 'HTTP@localhost', realms: [REALM] },
      },
    })
  }, 90_000)
  afterAll(async () => {
    await stack?.stop()
    await kdc?.stop()
  }, 60_000)

  it('asks for a ticket with 401 Negotiate, showing the login page to browsers without one', async () => {
    const res = await new Client(stack.url).get('/hub/login')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Negotiate')
    expect(await res.text()).toContain('name="password"')
  })

  it("logs in with a real ticket for the hub's service, as the principal's name", async () => {
    const token = await negotiate(kdc.kinit('ann', 'ann-kerberos-pw'), 'HTTP@localhost')
    const browser = new Client(stack.url)
    const res = await browser.get('/hub/login?next=%2Fhub%2Fhome', { authorization: `Negotiate ${token}` })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/hub/home')
    expect((await json(await browser.api('GET', '/user'))).name).toBe('ann')
  })

  it('refuses a ticket for another service and a forged token', async () => {
    const other = await negotiate(kdc.kinit('ann', 'ann-kerberos-pw'), 'HTTP@elsewhere')
    for (const token of [other, Buffer.from('not a GSSAPI token').toString('base64')]) {
      const browser = new Client(stack.url)
      const res = await browser.get('/hub/login', { authorization: `Negotiate ${token}` })
      expect(res.status).not.toBe(302)
      expect(browser.jar.has('edgehub-session')).toBe(false)
    }
  })

  it('offers the native password form beside it (auth.also), never checking passwords with the KDC', async () => {
    // ann's Kerberos password is not a hub password: no login with it
    expect(
      (await new Client(stack.url).postForm('/hub/login', { username: 'ann', password: 'ann-kerberos-pw' })).status,
    ).toBe(403)
  })
})
