// auth.ldap: the LDAP authenticator's settings (JupyterHub's ldapauthenticator, in our names).
import { z } from 'zod'

const dnTemplate = z
  .string()
  .min(1)
  .max(1000)
  .refine((t) => t.includes('{username}'), 'expected {username} in the template')

export const ldapSettings = z
  .strictObject({
    url: z
      .string()
      .regex(/^ldaps?:\/\/[^/\s]+\/?$/, 'expected ldap://host[:port] or ldaps://host[:port]')
      .default('ldap://127.0.0.1:389')
      .describe(
        'The directory server (ldapauthenticator server_address and server_port): ldaps:// for TLS from the start.',
      ),
    allowPlaintext: z
      .boolean()
      .default(false)
      .describe(
        'Allow ldap:// without startTls to a directory off this machine: passwords then cross the network in clear.',
      ),
    startTls: z
      .boolean()
      .default(false)
      .describe(
        'Upgrade an ldap:// connection to TLS before binding (StartTLS); the password never crosses the network in clear.',
      ),
    tlsCaFile: z
      .string()
      .optional()
      .describe("PEM file of the CA that signed the server's certificate (default: the system's CAs)."),
    bindDnTemplates: z
      .array(dnTemplate)
      .max(20)
      .default([])
      .describe(
        'Direct bind (ldapauthenticator bind_dn_template): DNs to bind as, tried in turn, {username} filled with the login name (escaped), e.g. `uid={username},ou=people,dc=example,dc=org`. Give these, or lookupDn.',
      ),
    lookupDn: z
      .boolean()
      .default(false)
      .describe(
        "Search, then bind (ldapauthenticator lookup_dn): bind as searchUser, find the one entry whose userAttribute is the login name under userSearchBase, then bind as that entry's DN with the password.",
      ),
    searchUser: z
      .string()
      .max(1000)
      .optional()
      .describe('DN to bind as for the search (lookupDn). Default: anonymous.'),
    searchPassword: z.string().max(1000).optional().describe("searchUser's password (never logged)."),
    userSearchBase: z
      .string()
      .max(1000)
      .optional()
      .describe('Where users are searched (lookupDn), e.g. `ou=people,dc=example,dc=org`.'),
    userAttribute: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/)
      .default('uid')
      .describe('The attribute that holds the login name (lookupDn): uid, or sAMAccountName for Active Directory.'),
    validUsername: z
      .string()
      .max(200)
      .default('^[a-z][.a-z0-9_-]*$')
      .describe(
        'Login names must match this regular expression before anything is sent to the directory (ldapauthenticator valid_username_regex); others are refused.',
      ),
    groupSearchBase: z
      .string()
      .max(1000)
      .optional()
      .describe(
        "Where groups are searched: the groups whose member or uniqueMember is the user's DN, or whose memberUid is the login name, are the user's groups (their groupNameAttribute), for auth.allowedGroups, auth.adminGroups and auth.manageGroups. Unset: no groups are read.",
      ),
    groupNameAttribute: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/)
      .default('cn')
      .describe('The attribute that names a group (its name in the hub).'),
    timeoutSec: z
      .number()
      .min(0.5)
      .max(60)
      .default(10)
      .describe('Longest wait for the directory per operation. Range 0.5-60.'),
  })
  .prefault({})
  .describe('The LDAP authenticator: logins checked by binding to a directory (OpenLDAP, Active Directory).')

export type LdapSettings = z.output<typeof ldapSettings>

/** What the schema cannot say alone (it is read whatever auth.kind is): one line per problem, naming the key. */
export function ldapSettingsProblems(s: LdapSettings): string[] {
  const problems: string[] = []
  // every login's password would cross the network in clear
  const host = s.url
    .replace(/^ldaps?:\/\//, '')
    .replace(/:\d+\/?$|\/$/g, '')
    .replace(/^\[|\]$/g, '')
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host)
  if (s.url.startsWith('ldap:') && !s.startTls && !loopback && !s.allowPlaintext)
    problems.push(
      'auth.ldap.startTls: needed for a directory off this machine over ldap:// (or use ldaps://, or set auth.ldap.allowPlaintext on a trusted network)',
    )
  if (!s.lookupDn && s.bindDnTemplates.length === 0)
    problems.push('auth.ldap.bindDnTemplates: give bindDnTemplates, or set auth.ldap.lookupDn')
  if (s.lookupDn && !s.userSearchBase) problems.push('auth.ldap.userSearchBase: needed with auth.ldap.lookupDn')
  try {
    new RegExp(s.validUsername)
  } catch {
    problems.push('auth.ldap.validUsername: not a valid regular expression')
  }
  return problems
}
