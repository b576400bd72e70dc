// ldap: a login is a bind to the directory as the user (JupyterHub's ldapauthenticator): straight to
// a DN made from a template, or found first by a search. The login name must match validUsername
// before anything reaches the directory, and is escaped in DNs (RFC 4514) and filters (RFC 4515).
// An empty password is refused here: a directory takes a bind without one as anonymous, a success.
import { readFileSync } from 'node:fs'
import { Client, InvalidCredentialsError } from 'ldapts'
import { checkServerIdentity, type ConnectionOptions } from 'node:tls'
import type { Authenticator, Identity, LoginInput } from '../authenticator'
import type { LdapSettings } from './settings'
import { HubError } from '../../../runtime/src/errors'
import { concurrencyLimit } from '../concurrency'

/** A value in a DN (RFC 4514): the special characters, a leading space or #, a trailing space. */
export function escapeDnValue(v: string): string {
  return v
    .replace(/[\\,+"<>;=\u0000]/g, (c) => (c === '\u0000' ? '\\00' : `\\${c}`))
    .replace(/^([ #])/, '\\$1')
    .replace(/ $/, '\\ ')
}

/** A value in a search filter (RFC 4515). */
export function escapeFilterValue(v: string): string {
  return v.replace(/[\\*()\u0000]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

class DirectoryUnavailable extends HubError {
  constructor(cause: unknown) {
    super(503, 'The login directory cannot be reached. Try again in a few minutes.', 'ldap_unavailable', {
      cause,
      expose: true,
    })
  }
}

export function createLdapAuthenticator(o: LdapSettings): Authenticator {
  // a connection each, up to timeoutSec: 16 at once, 64 waiting, then "busy"
  const limited = concurrencyLimit(16, 64)
  const valid = new RegExp(o.validUsername)
  // the certificate is checked against the URL's host (ldapts' StartTLS would check "localhost")
  const host = new URL(o.url).hostname.replace(/^\[|\]$/g, '')
  const tlsOptions: ConnectionOptions = {
    ...(o.tlsCaFile ? { ca: readFileSync(o.tlsCaFile) } : {}),
    checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert),
  }
  const timeout = Math.round(o.timeoutSec * 1000)

  /** The DNs to try binding as: the templates, or the one entry a search finds. */
  const candidates = async (client: Client, username: string): Promise<string[]> => {
    if (!o.lookupDn) return o.bindDnTemplates.map((t) => t.replaceAll('{username}', escapeDnValue(username)))
    if (o.searchUser) await client.bind(o.searchUser, o.searchPassword ?? '')
    const { searchEntries } = await client.search(o.userSearchBase!, {
      scope: 'sub',
      filter: `(${o.userAttribute}=${escapeFilterValue(username)})`,
      attributes: ['dn'],
      sizeLimit: 2,
    })
    return searchEntries.length === 1 ? [searchEntries[0]!.dn] : [] // none, or not one person
  }

  const groupsOf = async (client: Client, dn: string, username: string): Promise<string[] | undefined> => {
    if (!o.groupSearchBase) return undefined
    const d = escapeFilterValue(dn)
    const { searchEntries } = await client.search(o.groupSearchBase, {
      scope: 'sub',
      filter: `(|(member=${d})(uniqueMember=${d})(memberUid=${escapeFilterValue(username)}))`,
      attributes: [o.groupNameAttribute],
      sizeLimit: 1000,
    })
    return searchEntries.flatMap((e) => {
      const v = e[o.groupNameAttribute]
      return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string')
    })
  }

  return {
    kind: 'ldap',
    passwordForm: true,
    async authenticate({ username, password }: LoginInput): Promise<Identity | null> {
      if (!password || !valid.test(username)) return null
      return limited(() => bindAs(username, password))
    },
  }

  async function bindAs(username: string, password: string): Promise<Identity | null> {
    // tlsOptions make ldapts speak TLS from the start: only for ldaps://
    const client = new Client({
      url: o.url,
      timeout,
      connectTimeout: timeout,
      ...(o.url.startsWith('ldaps:') ? { tlsOptions } : {}),
    })
    try {
      if (o.startTls) await client.startTLS(tlsOptions)
      for (const dn of await candidates(client, username)) {
        try {
          await client.bind(dn, password)
        } catch (err) {
          if (err instanceof InvalidCredentialsError) continue
          throw err
        }
        const groups = await groupsOf(client, dn, username)
        return { name: username, ...(groups ? { groups } : {}), authState: { dn } }
      }
      return null
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return null // the search user's, say: still a refusal
      throw new DirectoryUnavailable(err)
    } finally {
      await client.unbind().catch(() => {})
    }
  }
}
