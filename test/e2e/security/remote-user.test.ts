// The remote-user authenticator behind a front server (Shibboleth, mod_auth_mellon): the front,
// at a proxy.trustedProxies address, names the user in X-Remote-User and the login page logs them
// in; the same header from any other address is blanked by the edge proxy, and on any other path,
// even from the front, it never reaches the hub or a user's server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from 'node:net'
import { Agent, fetch as undiciFetch } from 'undici'
import { startStack, type Stack } from '../../support/stack'
import { Client, json } from '../../support/client'
import { echoSpawner } from '../../support/servers'
import { serverRouted } from '../../support/people'

const FRONT = '127.0.0.2' // the front server's address: trusted
// undici's own connector ignores localAddress: connect from FRONT by hand
const front = new Agent({
  connect: (o, done) => {
    const socket = connect({ host: o.hostname, port: Number(o.port), localAddress: FRONT })
    socket.once('connect', () => done(null, socket))
    socket.once('error', (err) => done(err, null))
  },
})
/** A browser whose requests arrive through the front server (from its address). */
const viaFront = (base: string) =>
  new Client(base, (url, init) => undiciFetch(url, { ...(init as object), dispatcher: front }) as unknown as Response)

let stack: Stack

describe('remote-user authenticator', () => {
  beforeAll(async () => {
    stack = await startStack({
      auth: { kind: 'remote-user', 'remote-user': { header: 'X-Remote-User' } },
      proxy: { trustedProxies: [FRONT] },
      spawner: echoSpawner(),
    })
  }, 90_000)
  afterAll(async () => {
    await stack?.stop()
    await front.close()
  }, 60_000)

  it('logs in the user the front server names, from the login page', async () => {
    const browser = viaFront(stack.url)
    const res = await browser.get('/hub/login?next=%2Fhub%2Fhome', { 'x-remote-user': 'Ann' })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/hub/home')
    const home = await browser.get('/hub/home')
    expect(home.status).toBe(200)
    expect(await home.text()).toContain('ann')
  })

  it('ignores the header from any other address: the login page, no session', async () => {
    const stranger = new Client(stack.url) // from 127.0.0.1
    const res = await stranger.get('/hub/login', { 'x-remote-user': 'admin' })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('through your institution&#39;s sign-on')
    expect(stranger.jar.has('edgehub-session')).toBe(false)
    expect((await stranger.postForm('/hub/login', { username: 'admin', password: 'x' })).status).toBe(404)
  })

  it('never passes the header on other paths, even from the front: not to the hub API, not to servers', async () => {
    const browser = viaFront(stack.url)
    expect((await browser.get('/hub/login', { 'x-remote-user': 'bob' })).status).toBe(302)
    expect((await browser.postForm('/hub/spawn', {})).status).toBe(302)
    const token = (await json(await browser.api('POST', '/users/bob/tokens', { note: 't' }))).token as string
    await serverRouted(stack.url, token, 'bob')
    const seen = await json(await browser.get('/user/bob/echo', { 'x-remote-user': 'mallory' }))
    expect(seen.headers['x-remote-user'] ?? '').toBe('')
    // the API from the front with another name still answers as bob (the session), not mallory
    const me = await json(await browser.api('GET', '/user'))
    expect(me.name).toBe('bob')
  })
})
