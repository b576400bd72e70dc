// kerberos: logins with the browser's Kerberos ticket (SPNEGO, `Authorization: Negotiate`), checked
// against the hub's keytab through GSSAPI (the kerberos module, built against Debian's libkrb5).
// GET /hub/login without a ticket answers 401 `WWW-Authenticate: Negotiate`, which a browser set up
// for the realm answers with one; others see the login page. No password form: checking a password
// with the KDC alone (as kinit does) can be answered by a spoofed KDC; offer a password authenticator
// beside it (auth.also) for browsers without a ticket.
import { existsSync } from 'node:fs'
import type { Authenticator, Identity, RequestLoginResult } from '../authenticator'
import type { KerberosSettings } from './settings'
import { HubError } from '../../../runtime/src/errors'

type KerberosModule = typeof import('kerberos')

let loaded: Promise<KerberosModule> | undefined
/** The native module, loaded on first use: a hub with another authenticator never needs it. */
function kerberosModule(): Promise<KerberosModule> {
  loaded ??= import('kerberos').then(
    (m) => ((m as { default?: KerberosModule }).default ?? m) as KerberosModule,
    (err: Error) => {
      loaded = undefined
      throw new HubError(
        503,
        'Kerberos logins are not available on this hub (the kerberos module is not built).',
        'kerberos_unavailable',
        { cause: err, expose: true },
      )
    },
  )
  return loaded
}

/** `ann@EXAMPLE.ORG` → ann, when the realm is one of `realms` (any when empty); undefined otherwise. */
export function localName(principal: string, realms: readonly string[]): string | undefined {
  const at = principal.lastIndexOf('@')
  const [name, realm] = at < 0 ? [principal, ''] : [principal.slice(0, at), principal.slice(at + 1)]
  if (!name || name.includes('/')) return undefined // a service principal (host/x@R) is nobody
  if (realms.length && !realms.includes(realm)) return undefined
  return name
}

const NEGOTIATE = /^Negotiate\s+([A-Za-z0-9+/=]{1,65536})$/

export function createKerberosAuthenticator(o: KerberosSettings): Authenticator {
  // GSSAPI reads these when it first needs them, in this process (the hub's)
  if (o.keytab) process.env.KRB5_KTNAME = o.keytab
  if (o.krb5Config) process.env.KRB5_CONFIG = o.krb5Config
  return {
    kind: 'kerberos',
    passwordForm: false,
    loginNotice: 'This hub logs you in with your Kerberos ticket. Get one (kinit) and allow this site in your browser.',
    async authenticate(): Promise<Identity | null> {
      return null // tickets only: a password checked with the KDC alone could be answered by a spoofed KDC
    },
    async requestLogin({ headers }): Promise<RequestLoginResult> {
      const m = NEGOTIATE.exec(headers.get('authorization') ?? '')
      if (!m) return { challenge: { 'WWW-Authenticate': 'Negotiate' } }
      if (o.keytab && !existsSync(o.keytab)) throw new HubError(503, 'The hub has no Kerberos key.', 'no_keytab')
      const k = await kerberosModule()
      try {
        const server = await k.initializeServer(o.service)
        await server.step(m[1]!)
        const name = server.contextComplete ? localName(server.username ?? '', o.realms) : undefined
        return name ? { name, authState: { principal: server.username ?? '' } } : null
      } catch {
        return null // a ticket for another service, expired, forged: no login
      }
    },
  }
}
