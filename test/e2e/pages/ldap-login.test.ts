// LDAP logins from the login page against a real OpenLDAP (slapd): the directory's groups decide who
// may log in (auth.allowedGroups) and who is an admin (auth.adminGroups), and with auth.manageGroups
// the hub's groups follow the directory's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { Client, json } from '../../support/client'
import { hasSlapd, person, startSlapd, type Slapd } from '../../support/slapd'

const DIRECTORY = `dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=org
objectClass: organizationalUnit
ou: groups

${person('ann', 'ann-secret', 2001)}${person('bob', 'bob-secret', 2002)}${person('carl', 'carl-secret', 2003)}dn: cn=students,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: students
member: uid=ann,ou=people,dc=example,dc=org
member: uid=bob,ou=people,dc=example,dc=org

dn: cn=it,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: it
member: uid=bob,ou=people,dc=example,dc=org

`

let slapd: Slapd
let stack: Stack
const logIn = async (username: string, password: string) => {
  const browser = new Client(stack.url)
  const res = await browser.postForm('/hub/login', { username, password })
  return { browser, status: res.status }
}

describe.skipIf(!hasSlapd)('LDAP login', () => {
  beforeAll(async () => {
    slapd = await startSlapd(DIRECTORY)
    stack = await startStack({
      auth: {
        kind: 'ldap',
        allowedGroups: ['students'],
        adminGroups: ['it'],
        manageGroups: true,
        ldap: {
          url: slapd.url,
          bindDnTemplates: ['uid={username},ou=people,dc=example,dc=org'],
          groupSearchBase: 'ou=groups,dc=example,dc=org',
        },
      },
    })
  }, 90_000)
  afterAll(async () => {
    await stack?.stop()
    await slapd?.stop()
  }, 60_000)

  it('lets a member of an allowed group in, with the groups of the directory', async () => {
    const { browser, status } = await logIn('ann', 'ann-secret')
    expect(status).toBe(302)
    const me = await json(await browser.api('GET', '/user'))
    expect(me).toMatchObject({ name: 'ann', admin: false, groups: ['students'] })
  })

  it('makes a member of an admin group an admin', async () => {
    const { browser, status } = await logIn('bob', 'bob-secret')
    expect(status).toBe(302)
    const me = await json(await browser.api('GET', '/user'))
    expect(me).toMatchObject({ name: 'bob', admin: true })
    expect([...me.groups].sort()).toEqual(['it', 'students'])
  })

  it('refuses the right password of someone in no allowed group, and a wrong one', async () => {
    expect((await logIn('carl', 'carl-secret')).status).toBe(403)
    expect((await logIn('ann', 'wrong')).status).toBe(403)
    expect((await logIn('ann', '')).status).toBe(403)
  })
})
