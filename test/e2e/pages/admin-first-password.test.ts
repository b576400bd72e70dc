// The admin page's add-user form also sets the first password of a user who has none (made through
// the API, or from auth.admins / auth.allowed). That is a way in as that user, so it is held to what
// the REST API would allow: admin:users on that user, and an admin for an admin. A helper with the
// admin page and user management cannot give an admin a password of their choosing and log in as them.
// And the words a page shows after an action come from its URL only after the hub's own redirect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client } from '../../support/client'
import { person, rootOf, type Admin } from '../../support/people'
import { startStack, type Stack } from '../../support/stack'

let stack: Stack
let root: Admin
let helper: Admin

beforeAll(async () => {
  stack = await startStack({
    roles: [{ name: 'user-managers', scopes: ['admin-ui', 'admin:users', 'list:users'], users: ['helma'] }],
  })
  root = await rootOf(stack)
  helper = await person(root, 'helma')
  // users without a password, made through the API: an admin and a plain user
  for (const [name, admin] of [
    ['boss', true],
    ['plain', false],
  ] as const) {
    const res = await fetch(`${stack.url}/hub/api/users/${name}`, {
      method: 'POST',
      headers: { ...root.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ admin }),
    })
    expect(res.status).toBe(201)
  }
}, 120_000)

afterAll(async () => stack?.stop(), 60_000)

const canLogIn = async (name: string, password: string) =>
  (await new Client(stack.url).login(name, password)).status === 302

describe("the admin page's first password", () => {
  it("is refused for an admin unless an admin sets it, and the admin's account stays closed", async () => {
    const res = await helper.client.postForm('/hub/admin/users', { username: 'boss', password: 'helma-chose-this-1' })
    expect(res.status).toBe(403)
    expect(await res.text()).toMatch(/only admins can set the first password of boss/i)
    expect(await canLogIn('boss', 'helma-chose-this-1')).toBe(false)

    const byRoot = await root.client.postForm('/hub/admin/users', { username: 'boss', password: 'root-chose-this-1' })
    expect(byRoot.status).toBe(302)
    expect(await canLogIn('boss', 'root-chose-this-1')).toBe(true)
  })

  it('is allowed for a plain user to a helper holding admin:users', async () => {
    const res = await helper.client.postForm('/hub/admin/users', { username: 'plain', password: 'plain-first-pass-1' })
    expect(res.status).toBe(302)
    expect(await canLogIn('plain', 'plain-first-pass-1')).toBe(true)
  })
})

describe("the admin page's notice", () => {
  it('shows words from its URL only after a navigation from the hub itself, not from a link elsewhere', async () => {
    const spoof = 'Your session expired: re-enter your password at evil.example'
    const url = `/hub/admin?notice=${encodeURIComponent(spoof)}`
    const fromElsewhere = await root.client.get(url, { 'sec-fetch-site': 'cross-site' })
    expect(fromElsewhere.status).toBe(200)
    expect(await fromElsewhere.text()).not.toContain('re-enter your password')
    const typed = await root.client.get(url, { 'sec-fetch-site': 'none' })
    expect(await typed.text()).not.toContain('re-enter your password')
    // the redirect after one of the page's own forms
    const own = await root.client.get(url, { 'sec-fetch-site': 'same-origin' })
    expect(await own.text()).toContain('re-enter your password')
  })
})
