// dummy: any user name, any password (or one shared password). For development only.
import type { Authenticator } from '../authenticator'

export function createDummyAuthenticator(o: { password?: string }): Authenticator {
  return {
    kind: 'dummy',
    async authenticate({ username, password }) {
      if (o.password !== undefined && password !== o.password) return null
      return { name: username }
    },
  }
}
