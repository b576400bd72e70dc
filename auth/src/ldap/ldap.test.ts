// The LDAP authenticator against a real OpenLDAP (Debian's slapd) started for this file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLdapAuthenticator, escapeDnValue, escapeFilterValue } from './index'
import { ldapSettings, ldapSettingsProblems } from './settings'
import { hasSlapd, person, startSlapd, type Slapd } from '../../../test/support/slapd'
import { HubError } from '../../../runtime/src/errors'

const GROUPS = `dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=org
objectClass: organizationalUnit
ou: groups

${person('ann', 'ann-secret', 2001)}${person('bob', 'bob-secret', 2002)}dn: cn=students,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: students
member: uid=ann,ou=people,dc=example,dc=org

dn: cn=staff,ou=groups,dc=example,dc=org
objectClass: posixGroup
cn: staff
gidNumber: 500
memberUid: bob

`

let slapd: Slapd
let caDir: string
const settings = (s: Record<string, unknown>) => ldapSettings.parse({ url: slapd.url, ...s })
const direct = () =>
  createLdapAuthenticator(settings({ bindDnTemplates: ['uid={username},ou=people,dc=example,dc=org'] }))

describe.skipIf(!hasSlapd)('ldap authenticator', () => {
  beforeAll(async () => {
    slapd = await startSlapd(GROUPS, { tls: true })
    caDir = mkdtempSync(join(tmpdir(), 'edgehub-ldap-ca-'))
    writeFileSync(join(caDir, 'ca.pem'), slapd.ca!)
  }, 30_000)
  afterAll(async () => {
    await slapd?.stop()
    rmSync(caDir, { recursive: true, force: true })
  })

  it('binds as the DN a template makes, and refuses a wrong or empty password', async () => {
    const a = direct()
    expect(await a.authenticate({ username: 'ann', password: 'ann-secret' })).toEqual({
      name: 'ann',
      authState: { dn: 'uid=ann,ou=people,dc=example,dc=org' },
    })
    expect(await a.authenticate({ username: 'ann', password: 'bob-secret' })).toBeNull()
    expect(await a.authenticate({ username: 'ann', password: '' })).toBeNull() // would be an anonymous bind
    expect(await a.authenticate({ username: 'carl', password: 'x' })).toBeNull()
  })

  it('searches, then binds, and reads the groups by member and memberUid', async () => {
    const a = createLdapAuthenticator(
      settings({
        lookupDn: true,
        searchUser: slapd.rootDn,
        searchPassword: slapd.rootPassword,
        userSearchBase: 'ou=people,dc=example,dc=org',
        groupSearchBase: 'ou=groups,dc=example,dc=org',
      }),
    )
    expect(await a.authenticate({ username: 'ann', password: 'ann-secret' })).toMatchObject({
      name: 'ann',
      groups: ['students'],
    })
    expect(await a.authenticate({ username: 'bob', password: 'bob-secret' })).toMatchObject({
      name: 'bob',
      groups: ['staff'],
    })
    expect(await a.authenticate({ username: 'bob', password: 'nope' })).toBeNull()
  })

  it('sends nothing to the directory for a name outside validUsername, and escapes what it sends', async () => {
    const a = createLdapAuthenticator(
      settings({ lookupDn: true, userSearchBase: 'ou=people,dc=example,dc=org', validUsername: '.*' }),
    )
    // a filter injection matching every entry finds more than one: no login
    expect(await a.authenticate({ username: '*', password: 'ann-secret' })).toBeNull()
    expect(await a.authenticate({ username: 'ann)(uid=*', password: 'ann-secret' })).toBeNull()
    expect(await direct().authenticate({ username: 'ann,ou=people', password: 'ann-secret' })).toBeNull()
    expect(escapeDnValue('a,b+c="x"; #')).toBe('a\\,b\\+c\\=\\"x\\"\\; #')
    expect(escapeDnValue(' #lead')).toBe('\\ #lead')
    expect(escapeFilterValue('a*(b)\\')).toBe('a\\2a\\28b\\29\\5c')
  })

  it('upgrades to TLS (StartTLS) with the CA given, and refuses a server it cannot verify', async () => {
    const tls = createLdapAuthenticator(
      settings({
        bindDnTemplates: ['uid={username},ou=people,dc=example,dc=org'],
        startTls: true,
        tlsCaFile: join(caDir, 'ca.pem'),
      }),
    )
    expect(await tls.authenticate({ username: 'ann', password: 'ann-secret' })).toMatchObject({ name: 'ann' })
    const untrusted = createLdapAuthenticator(
      settings({ bindDnTemplates: ['uid={username},ou=people,dc=example,dc=org'], startTls: true }),
    )
    await expect(untrusted.authenticate({ username: 'ann', password: 'ann-secret' })).rejects.toBeInstanceOf(HubError)
  })

  it('says the directory cannot be reached (503) rather than refusing the password', async () => {
    const down = createLdapAuthenticator(
      ldapSettings.parse({ url: 'ldap://127.0.0.1:1', bindDnTemplates: ['uid={username},dc=x'], timeoutSec: 2 }),
    )
    const err = await down.authenticate({ username: 'ann', password: 'ann-secret' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HubError)
    expect((err as HubError).status).toBe(503)
  })

  it('names the key of a setting that cannot work', () => {
    expect(ldapSettingsProblems(ldapSettings.parse({}))).toEqual([
      'auth.ldap.bindDnTemplates: give bindDnTemplates, or set auth.ldap.lookupDn',
    ])
    expect(ldapSettingsProblems(ldapSettings.parse({ lookupDn: true, validUsername: '(' }))).toEqual([
      'auth.ldap.userSearchBase: needed with auth.ldap.lookupDn',
      'auth.ldap.validUsername: not a valid regular expression',
    ])
  })
})
