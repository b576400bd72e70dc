// auth.remote-user: the remote-user authenticator's settings.
import { z } from 'zod'

export const remoteUserSettings = z
  .strictObject({
    header: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, "expected a header name: letters, digits and '-'")
      .default('X-Remote-User')
      .describe(
        "The header in which the front server (Shibboleth's or mod_auth_mellon's Apache, an nginx with auth_request, an OAuth2 proxy) names the logged-in user (JupyterHub's RemoteUserAuthenticator header_name). The edge proxy passes it to the hub's login page only from proxy.trustedProxies addresses and blanks it from anyone else, so proxy.trustedProxies must name the front servers. Headers with '_' are dropped by nginx: use '-'.",
      ),
    loginHelp: z
      .string()
      .max(500)
      .default("This hub logs you in through your institution's sign-on. Open it through the sign-on address.")
      .describe(
        'What the login page says when a request reaches it without the header (not through the front server).',
      ),
  })
  .prefault({})
  .describe('The remote-user authenticator: a trusted front server names the user in a header.')

export type RemoteUserSettings = z.output<typeof remoteUserSettings>
