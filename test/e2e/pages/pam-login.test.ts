// PAM logins from the login page with the machine's accounts (as root, as The Littlest JupyterHub's
// hub runs): a Unix group decides who may log in, and an expired account is told why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { startStack, type Stack } from '../../support/stack'
import { Client, json } from '../../support/client'
import { addAccount, isRoot, removeAccounts, testPrefix } from '../../support/accounts'

const prefix = testPrefix()
const [ann, bob, old, group] = ['ann', 'bob', 'old', 'lab'].map((n) => `${prefix}${n}`) as [
  string,
  string,
  string,
  string,
]
let stack: Stack
const logIn = async (username: string, password: string) => {
  const browser = new Client(stack.url)
  const res = await browser.postForm('/hub/login', { username, password })
  return { browser, res }
}

describe.skipIf(!isRoot)('PAM login (as root)', () => {
  beforeAll(async () => {
    execFileSync('groupadd', [group])
    addAccount(ann, [group])
    addAccount(bob)
    addAccount(old, [group])
    execFileSync('chpasswd', { input: `${ann}:ann-unix-pw\n${bob}:bob-unix-pw\n${old}:old-unix-pw\n` })
    execFileSync('chage', ['-E', '0', old])
    stack = await startStack({ auth: { kind: 'pam', allowedGroups: [group] } })
  }, 90_000)
  afterAll(async () => {
    await stack?.stop()
    expect(removeAccounts(prefix)).toEqual([])
  }, 60_000)

  it('logs in a member of the allowed Unix group with the Unix password', async () => {
    const { browser, res } = await logIn(ann, 'ann-unix-pw')
    expect(res.status).toBe(302)
    expect((await json(await browser.api('GET', '/user'))).name).toBe(ann)
  })

  it('refuses someone outside the group, and a wrong password', async () => {
    expect((await logIn(bob, 'bob-unix-pw')).res.status).toBe(403)
    expect((await logIn(ann, 'not it')).res.status).toBe(403)
  })

  it('tells an expired account why', async () => {
    const { res } = await logIn(old, 'old-unix-pw')
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('This account may not log in: ')
  })
})
