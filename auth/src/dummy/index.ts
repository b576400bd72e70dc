// dummy: any user name, any password (or one shared password). For development only.
import type { Authenticator } from '../authenticator'

export function createDummyAuthenticator(o: { password?: string }): Authenticator {
  return {
    kind: 'dummy',
    passwordForm: true,
    loginNotice:
      o.password === undefined
        ? 'Development mode: any user name and password are accepted.'
        : 'Development mode: any user name is accepted, with the shared password.',
    async authenticate({ username, password }) {
      if (o.password !== undefined && password !== o.password) return null
      return { name: username }
    },
  }
}
