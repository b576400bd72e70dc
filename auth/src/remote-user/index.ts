// remote-user: a front server that has logged the person in (Shibboleth, mod_auth_mellon, an OAuth2
// proxy) names them in a header (JupyterHub's RemoteUserAuthenticator). The edge proxy passes that
// header to /hub/login only from proxy.trustedProxies and blanks it from anyone else, so a client
// cannot name itself; the hub then admits the name like any other login.
import type { Authenticator, Identity } from '../authenticator'
import type { RemoteUserSettings } from './settings'

export function createRemoteUserAuthenticator(o: RemoteUserSettings): Authenticator {
  return {
    kind: 'remote-user',
    passwordForm: false,
    loginNotice: o.loginHelp,
    async authenticate() {
      return null // no password logins: the login page shows no form
    },
    async requestLogin({ headers }): Promise<Identity | null> {
      const name = headers.get(o.header)?.trim()
      // a list (two headers joined by a comma) or an empty value names nobody
      if (!name || name.includes(',')) return null
      return { name }
    },
  }
}
