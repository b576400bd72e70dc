// The native authenticator's second factor (auth.native.allow2fa), from the pages a person uses: the
// home page links /hub/two-factor, which shows a key for an authenticator app and turns the factor on
// with a current code; from then on the login form needs a code, each code logs in once, and an admin
// resets it for a user who lost their app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { Client } from '../../support/client'
import { person, rootOf, type Admin } from '../../support/people'
import { stepAt, totpAt } from '../../../auth/src/native/totp'

let stack: Stack
let root: Admin
let ann: Admin

const codeAt = (secret: string, step: number) => totpAt(secret, step)
const logIn = (fields: Record<string, string>) => new Client(stack.url).postForm('/hub/login', fields)

describe('two-factor authentication', () => {
  beforeAll(async () => {
    stack = await startStack({ auth: { native: { allow2fa: true, issuer: 'Test Hub' } } })
    root = await rootOf(stack)
    ann = await person(root, 'ann')
  }, 90_000)
  afterAll(async () => {
    await stack?.stop()
  }, 60_000)

  it('is turned on from the home page with a code from the app, after which the password alone is refused', async () => {
    expect(await (await ann.client.get('/hub/home')).text()).toContain('href="/hub/two-factor"')
    expect(await (await new Client(stack.url).get('/hub/login')).text()).toContain('name="otp"')
    const page = await (await ann.client.get('/hub/two-factor')).text()
    const secret = /<pre id="secret">([A-Z2-7]{32})<\/pre>/.exec(page)![1]!
    expect(page).toContain(`otpauth://totp/Test%20Hub:ann?secret=${secret}`)
    const wrong = await ann.client.postForm('/hub/two-factor', { action: 'enable', secret, code: '000000' })
    expect(wrong.status).toBe(400)
    expect(await wrong.text()).toContain(`<pre id="secret">${secret}</pre>`) // the same key, to try again
    const step = stepAt(Date.now()) // the codes below are of this step and the next, whenever the steps turn
    const used = codeAt(secret, step)
    const on = await ann.client.postForm('/hub/two-factor', { action: 'enable', secret, code: used })
    expect(on.status).toBe(200)
    expect(await on.text()).toContain('Two-factor authentication is on.')
    // a session alone (a stolen cookie, a script) cannot swap in a key of its own
    const theirs = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
    const swap = await ann.client.postForm('/hub/two-factor', {
      action: 'enable',
      secret: theirs,
      code: codeAt(theirs, stepAt(Date.now())),
    })
    expect(swap.status).toBe(400)
    expect(await swap.text()).toContain('already on')

    expect((await logIn({ username: 'ann', password: ann.password })).status).toBe(403)
    // the code used to turn it on does not log in; the next one does, once
    expect((await logIn({ username: 'ann', password: ann.password, otp: used })).status).toBe(403)
    const next = codeAt(secret, step + 1)
    expect((await logIn({ username: 'ann', password: ann.password, otp: next })).status).toBe(302)
    expect((await logIn({ username: 'ann', password: ann.password, otp: next })).status).toBe(403)
    expect((await logIn({ username: 'ann', password: 'wrong', otp: next })).status).toBe(403)

    // an admin resets it for a user who lost their app: the password alone logs in again
    const reset = await root.client.postForm('/hub/admin/two-factor-reset', { username: 'ann' })
    expect(reset.status).toBe(302)
    expect((await logIn({ username: 'ann', password: ann.password })).status).toBe(302)
  })

  it('lets only admins reset a second factor', async () => {
    const bob = await person(root, 'bob')
    const res = await bob.client.postForm('/hub/admin/two-factor-reset', { username: 'ann' })
    expect(res.status).toBe(403)
  })
})
