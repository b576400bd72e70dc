// Login storm through the oidc authenticator: the identity provider is a second edgehub (its
// /hub/oidc), the hub under test has auth.kind oidc against it; both are whole stacks (Redis, hub,
// proxy). Every person already has a session at the provider (logged in once before the storm), so a
// login is the redirect flow alone: the hub's /hub/oauth_login, the provider's authorization, the
// hub's callback (code exchange, ID token checked against the provider's keys, userinfo, the login
// policy, the encrypted auth state, a session). Measured, each for a fixed time at a fixed number of
// logins in flight:
//   provider alone: the same code flow a relying party runs (authorize, token, userinfo), with
//                   openid-client in this process: the most logins/s the provider allows;
//   through the hub: whole logins at the hub under test.
// Run by itself: npx tsx bench/scenarios/oidc-logins.ts [--users N] [--concurrency C] [--seconds S]
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import * as oidc from 'openid-client'
import { Client } from '../../test/support/client'
import {
  CLIENT_ID,
  CLIENT_SECRET,
  TwoSiteBrowser,
  providerUser,
  startTwoHubs,
  type TwoHubs,
} from '../../test/e2e/auth/two-hubs'

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '15' },
  },
})
const USERS = Math.min(Math.max(Number(args.users), 1), 1000)
const CONCURRENCY = Math.min(Math.max(Number(args.concurrency), 1), 256)
const SECONDS = Math.min(Math.max(Number(args.seconds), 1), 600)
const PASSWORD = 'bench provider password'

interface Result {
  logins: number
  failures: number
  perSec: number
  p50: number
  p99: number
}

/** Runs `one` for SECONDS with CONCURRENCY in flight, each worker on its own users in turn. */
async function storm(one: (user: number) => Promise<boolean>): Promise<Result> {
  const latencies: number[] = []
  let failures = 0
  const end = performance.now() + SECONDS * 1000
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let i = w; performance.now() < end; i += CONCURRENCY) {
        const t = performance.now()
        const ok = await one(i % USERS).catch(() => false)
        if (ok) latencies.push(performance.now() - t)
        else failures++
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0)
  return {
    logins: latencies.length,
    failures,
    perSec: Math.round((latencies.length / seconds) * 10) / 10,
    p50: at(0.5),
    p99: at(0.99),
  }
}

async function main() {
  process.stdout.write(`starting the provider and the hub under test (${USERS} users)\n`)
  const two: TwoHubs = await startTwoHubs()
  try {
    const names = Array.from({ length: USERS }, (_, i) => `bench${i}`)
    for (const n of names) await providerUser(two, n, PASSWORD)
    // each person's session at the provider, made once with its login form
    const providerJars = await Promise.all(
      names.map(async (n) => {
        const c = new Client(two.provider.url)
        const res = await c.login(n, PASSWORD)
        if (res.status !== 302) throw new Error(`provider login of ${n}: ${res.status}`)
        return c
      }),
    )

    // provider alone: a relying party in this process runs the code flow for each person
    const rp = await oidc.discovery(new URL(two.issuer), CLIENT_ID, undefined, oidc.ClientSecretBasic(CLIENT_SECRET), {
      execute: [oidc.allowInsecureRequests],
    })
    oidc.enableNonRepudiationChecks(rp)
    const redirectUri = `${two.hub.url}/hub/oauth_callback`
    const providerAlone = async (u: number) => {
      const verifier = oidc.randomPKCECodeVerifier()
      const state = oidc.randomState()
      const nonce = oidc.randomNonce()
      let url = oidc.buildAuthorizationUrl(rp, {
        redirect_uri: redirectUri,
        scope: 'openid profile groups',
        state,
        nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      })
      for (let hop = 0; hop < 8 && !url.href.startsWith(redirectUri); hop++) {
        const res = await providerJars[u]!.get(url.pathname + url.search)
        await res.body?.cancel()
        const location = res.headers.get('location')
        if (!location) return false
        url = new URL(location, url)
      }
      const tokens = await oidc.authorizationCodeGrant(rp, url, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
      })
      const info = await oidc.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub)
      return info.preferred_username === names[u]
    }

    // through the hub: a fresh browser at the hub, the person's provider session
    const throughHub = async (u: number) => {
      const b = new TwoSiteBrowser(two)
      for (const [k, v] of providerJars[u]!.jar) b.provider.jar.set(k, v)
      const { res, url } = await b.follow('/hub/oauth_login?next=/hub/health')
      await res.body?.cancel()
      return res.status === 200 && url.pathname === '/hub/health' && b.hub.jar.has('edgehub-session')
    }

    // one of each first, so that a broken flow fails loudly rather than as a low rate
    if (!(await providerAlone(0))) throw new Error('the code flow at the provider failed')
    if (!(await throughHub(0))) throw new Error('a login through the hub failed')

    process.stdout.write(`provider alone: ${CONCURRENCY} in flight for ${SECONDS} s\n`)
    const alone = await storm(providerAlone)
    process.stdout.write(`through the hub: ${CONCURRENCY} in flight for ${SECONDS} s\n`)
    const hub = await storm(throughHub)
    const rows = [
      ['', 'logins/s', 'p50 ms', 'p99 ms', 'logins', 'failures'],
      ['provider alone', alone.perSec, alone.p50, alone.p99, alone.logins, alone.failures],
      ['through the hub', hub.perSec, hub.p50, hub.p99, hub.logins, hub.failures],
    ]
    for (const r of rows) process.stdout.write(`${r.map((c) => String(c).padEnd(16)).join('')}\n`)
    process.stdout.write(
      `${JSON.stringify({ users: USERS, concurrency: CONCURRENCY, seconds: SECONDS, providerAlone: alone, throughHub: hub })}\n`,
    )
    if (alone.failures || hub.failures) process.exitCode = 1
  } finally {
    await two.stop()
  }
}

await main()
