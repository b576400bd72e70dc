// auth.kerberos: the Kerberos (SPNEGO) authenticator's settings.
import { z } from 'zod'

const realm = z.string().regex(/^[A-Za-z0-9.-]{1,255}$/, 'expected a realm name such as EXAMPLE.ORG')

export const kerberosSettings = z
  .strictObject({
    keytab: z
      .string()
      .optional()
      .describe(
        "The keytab holding the hub's service key (HTTP/host@REALM), readable by the hub alone. Needed with auth.kind kerberos.",
      ),
    service: z
      .string()
      .regex(/^[A-Za-z0-9]+@[A-Za-z0-9.-]+$/, 'expected SERVICE@HOST, e.g. HTTP@hub.example.org')
      .default('HTTP@localhost')
      .describe("The hub's service as browsers ask tickets for it: HTTP@ and the host name of the hub's address."),
    krb5Config: z
      .string()
      .optional()
      .describe('A krb5.conf other than /etc/krb5.conf (KRB5_CONFIG), for the realm and its KDCs.'),
    realms: z
      .array(realm)
      .max(100)
      .default([])
      .describe(
        "Realms whose principals may log in (ann@EXAMPLE.ORG logs in as ann). [] takes any realm the KDC trusts: with cross-realm trust, name your own so that another realm's ann is not yours.",
      ),
  })
  .prefault({})
  .describe("The Kerberos authenticator: SPNEGO (Negotiate) logins with the browser's Kerberos ticket.")

export type KerberosSettings = z.output<typeof kerberosSettings>

export function kerberosSettingsProblems(s: KerberosSettings): string[] {
  return s.keytab ? [] : ["auth.kerberos.keytab: needed with auth.kind kerberos (the hub's service key)"]
}
