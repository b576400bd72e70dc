// The first-use authenticator from the login page, as a workshop participant meets it: the page says
// a first login makes the account, the first password sticks, a wrong one is refused later, and a
// name the policy blocks gets neither a login nor an account.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { Client } from '../../support/client'
import { rootOf, type Admin } from '../../support/people'

let stack: Stack
let root: Admin

describe('first-use login', () => {
  beforeAll(async () => {
    stack = await startStack({
      auth: {
        kind: 'first-use',
        blocked: ['eve'],
        admins: ['root', 'boss'], // boss exists from the start, without a password
        'first-use': { scryptCost: 1024, minPasswordLength: 8 },
      },
    })
    root = await rootOf(stack)
  }, 90_000)
  afterAll(async () => {
    await stack?.stop()
  }, 60_000)

  it('makes the account at the first login from the login page, and holds later logins to that password', async () => {
    const browser = new Client(stack.url)
    const page = await (await browser.get('/hub/login')).text()
    expect(page).toContain('your first login creates your account')
    const first = await browser.postForm('/hub/login?next=%2Fhub%2Fhome', {
      username: 'Nia',
      password: 'nias first pw',
    })
    expect(first.status).toBe(302)
    expect(first.headers.get('location')).toBe('/hub/home')
    expect((await browser.get('/hub/home')).status).toBe(200)
    const again = new Client(stack.url)
    expect((await again.postForm('/hub/login', { username: 'nia', password: 'something else' })).status).toBe(403)
    expect((await again.postForm('/hub/login', { username: 'nia', password: 'nias first pw' })).status).toBe(302)
  })

  it('says why a first password is refused, and makes no account', async () => {
    const browser = new Client(stack.url)
    const res = await browser.postForm('/hub/login', { username: 'omar', password: 'short' })
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('The password must have at least 8 characters.')
    const lookup = await fetch(`${stack.url}/hub/api/users/omar`, { headers: root.auth })
    expect(lookup.status).toBe(404)
  })

  it('refuses a blocked name without making an account for it', async () => {
    const res = await new Client(stack.url).postForm('/hub/login', { username: 'eve', password: 'eves long password' })
    expect(res.status).toBe(403)
    expect((await fetch(`${stack.url}/hub/api/users/eve`, { headers: root.auth })).status).toBe(404)
  })

  it("does not let a first login set a configured admin's password (only an admin or the operator does)", async () => {
    const res = await new Client(stack.url).postForm('/hub/login', { username: 'boss', password: 'takeover-attempt' })
    expect(res.status).toBe(403)
    const boss = await (await fetch(`${stack.url}/hub/api/users/boss`, { headers: root.auth })).json()
    expect(boss).toMatchObject({ name: 'boss', admin: true })
    expect(
      (await new Client(stack.url).postForm('/hub/login', { username: 'boss', password: 'takeover-attempt' })).status,
    ).toBe(403)
  })

  it('lets the user change the password on the change-password page', async () => {
    const browser = new Client(stack.url)
    expect((await browser.postForm('/hub/login', { username: 'pia', password: 'pias first pw' })).status).toBe(302)
    const page = await (await browser.get('/hub/home')).text()
    expect(page).toContain('/hub/change-password')
    const changed = await browser.postForm('/hub/change-password', {
      old_password: 'pias first pw',
      new_password: 'pias second pw',
    })
    expect(changed.status).toBeLessThan(400)
    expect(
      (await new Client(stack.url).postForm('/hub/login', { username: 'pia', password: 'pias first pw' })).status,
    ).toBe(403)
    expect(
      (await new Client(stack.url).postForm('/hub/login', { username: 'pia', password: 'pias second pw' })).status,
    ).toBe(302)
  })
})
