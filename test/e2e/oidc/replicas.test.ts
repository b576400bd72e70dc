// The provider in two hub replicas behind the edge proxy: nothing of a login, code or token lives in
// one replica, and a key rotation reaches both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as oidc from 'openid-client'
import { startCluster, type Cluster } from '../../support/cluster'
import { Client, json } from '../../support/client'
import { waitFor } from '../../../runtime/src/wait'
import { cli } from '../../support/people'
import {
  CONFIDENTIAL,
  PASSWORD,
  codeFlow,
  followToClient,
  header,
  oidcSettings,
  relyingParty,
  startAuthorization,
} from './oidc.config'

/** How soon a replica signs with a rotated key: it reads the key set at most every 2 s (docs/oidc.md). */
const KEY_CHECK_MS = 2000

let cluster: Cluster
let issuer: string

beforeAll(async () => {
  cluster = await startCluster({ hubs: 2, proxies: 1, haproxy: false, overrides: { oidc: oidcSettings } })
  issuer = `${cluster.url}/hub/oidc`
  cli(cluster, ['user', 'add', 'alice', '--password-stdin'], PASSWORD) // an operator adds her on a hub's machine
})
afterAll(async () => {
  await cluster?.stop()
})

/** A browser with a hub session, talking to `base` (one replica, or the proxy). */
async function browserAt(base: string): Promise<Client> {
  const b = new Client(base)
  expect((await b.login('alice', PASSWORD)).status).toBe(302)
  return b
}

describe('OIDC provider with two hub replicas', () => {
  it('runs the code flow through the edge proxy', async () => {
    const rp = await relyingParty(issuer, 'confidential')
    const tokens = await codeFlow(rp, await browserAt(cluster.url), CONFIDENTIAL.redirectUri)
    expect(tokens.claims()).toMatchObject({ iss: issuer, sub: 'alice' })
    expect(await oidc.fetchUserInfo(rp, tokens.access_token, 'alice')).toMatchObject({ sub: 'alice', admin: false })
  })

  it('redeems at one replica a code issued by the other, and refreshes at the first', async () => {
    const [hub0, hub1] = cluster.hubUrls
    const browser = await browserAt(hub0) // the browser only ever reaches replica 0
    const atHub1 = await relyingParty(issuer, 'confidential', hub1) // the client's back end, replica 1
    const started = await startAuthorization(atHub1, CONFIDENTIAL.redirectUri)
    const { callback } = await followToClient(browser, started.url, CONFIDENTIAL.redirectUri)
    const tokens = await oidc.authorizationCodeGrant(atHub1, callback, {
      pkceCodeVerifier: started.verifier,
      expectedState: started.state,
      expectedNonce: started.nonce,
    })
    expect(tokens.claims()?.sub).toBe('alice')
    expect(await oidc.fetchUserInfo(atHub1, tokens.access_token, 'alice')).toMatchObject({ sub: 'alice' })
    const atHub0 = await relyingParty(issuer, 'confidential', hub0)
    const refreshed = await oidc.refreshTokenGrant(atHub0, tokens.refresh_token!)
    expect(await oidc.fetchUserInfo(atHub0, refreshed.access_token, 'alice')).toMatchObject({ sub: 'alice' })
  })

  it('makes every replica sign with the new key soon after the leader rotates it', async () => {
    // the leader's rotation job, run now by an operator (its schedule is days)
    const out = cli(cluster, ['oidc', 'rotate-keys', '--force'])
    const rotated = /^rotated: key (\S+) signs new ID tokens$/.exec(out)?.[1]
    expect(rotated, out).toBeTruthy()
    for (const hub of cluster.hubUrls) {
      // a replica reads the key set at most KEY_CHECK_MS after it changed; the signing key is listed first
      await waitFor(
        `${hub} to sign with ${rotated}`,
        async () => (await json(await fetch(`${hub}/hub/oidc/jwks`))).keys[0].kid === rotated,
        {
          timeoutMs: KEY_CHECK_MS + 5000,
        },
      )
      const rp = await relyingParty(issuer, 'confidential', hub)
      const tokens = await codeFlow(rp, await browserAt(hub), CONFIDENTIAL.redirectUri)
      expect(header(tokens.id_token!).kid).toBe(rotated)
    }
  })
})
