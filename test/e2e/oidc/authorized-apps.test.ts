// The token page's "Authorized applications" for the hub's own OpenID Connect clients: a user who
// signed in to a client sees it there, and revoking it ends the client's access at once (its refresh
// and access tokens stop working). Another user can neither see nor
// revoke it. One `edgehub hub` from a config file on a real Redis, openid-client as the client.
import * as oidc from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../../runtime/src/ports'
import { Client } from '../../support/client'
import { startHarness, type Harness } from '../../support/harness'
import { cli } from '../../support/people'
import { CONFIDENTIAL, PASSWORD, codeFlow, oidcSettings, relyingParty } from './oidc.config'

let stack: Harness
let base: string
let issuer: string

beforeAll(async () => {
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  issuer = `${base}/hub/oidc`
  stack = await startHarness({
    proxies: 0,
    settings: { publicUrl: base, hub: { port }, oidc: oidcSettings },
  })
  for (const name of ['dana', 'eve']) cli(stack, ['user', 'add', name, '--password-stdin'], PASSWORD)
}, 120_000)

afterAll(async () => stack?.stop(), 60_000)

async function browserOf(user: string): Promise<Client> {
  const b = new Client(base)
  expect((await b.login(user, PASSWORD)).status).toBe(302)
  return b
}

/** The revoke form's action for client clientId on the token page, if the page lists it. */
async function revokeActionOn(browser: Client, clientId: string): Promise<string | undefined> {
  const page = await (await browser.get('/hub/token')).text()
  const row = new RegExp(`<tr data-client="${clientId}" data-kind="oidc">[\\s\\S]*?action="([^"]+)"`).exec(page)
  return row?.[1]
}

describe('token page: OpenID Connect clients as authorized applications', () => {
  it("lists a client the user signed in to, revokes it for good, and keeps it from other users' hands", async () => {
    const dana = await browserOf('dana')
    const rp = await relyingParty(issuer, 'confidential')
    const tokens = await codeFlow(rp, dana, CONFIDENTIAL.redirectUri)
    expect(tokens.refresh_token).toBeTruthy()
    const userinfo = (t: string) =>
      fetch(rp.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${t}` } })
    expect((await userinfo(tokens.access_token)).status).toBe(200)

    const action = await revokeActionOn(dana, CONFIDENTIAL.clientId)
    expect(action).toMatch(/^\/hub\/token\/oidc\/[^/]+\/revoke$/)

    // eve sees no such application, and posting dana's grant id with her own session does nothing
    const eve = await browserOf('eve')
    expect(await revokeActionOn(eve, CONFIDENTIAL.clientId)).toBeUndefined()
    expect((await eve.postForm(action!, {})).status).toBe(404)
    expect((await userinfo(tokens.access_token)).status).toBe(200)

    // without the XSRF field (another site's form), nothing happens either
    const forged = await fetch(base + action!, {
      method: 'POST',
      headers: {
        cookie: `edgehub-session=${dana.jar.get('edgehub-session')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: '',
      redirect: 'manual',
    })
    expect(forged.status).toBe(403)
    expect((await userinfo(tokens.access_token)).status).toBe(200)

    const revoked = await dana.postForm(action!, {})
    expect(revoked.status).toBe(303)
    expect(revoked.headers.get('location')).toBe('/hub/token?done=app-revoked')
    expect(await revokeActionOn(dana, CONFIDENTIAL.clientId)).toBeUndefined()

    // the client's tokens no longer work
    expect((await userinfo(tokens.access_token)).status).toBe(401)
    await expect(oidc.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' })
    // and a second revoke of the same grant finds nothing
    expect((await dana.postForm(action!, {})).status).toBe(404)
  })
})
