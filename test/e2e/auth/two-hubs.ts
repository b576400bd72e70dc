// Two edgehub stacks for the OpenID Connect authenticator's tests: the provider (its own users and
// groups, serving /hub/oidc, reached as http://localhost:PORT so its cookies stay apart from the
// other's in one browser) and the hub under test (auth.kind oidc against it, at http://127.0.0.1:PORT).
// Both are whole stacks (Redis, hub, proxy) started from config files through the CLI.
import { freePort } from '../../../runtime/src/ports'
import { startStack, type Stack } from '../../support/stack'
import { addUser, issuedToken, rootOf, type Admin } from '../../support/people'
import { Client, json } from '../../support/client'

export const CLIENT_ID = 'hub-under-test'
export const CLIENT_SECRET = 'hub-under-test-secret-0123456789abcdef'
export const CRYPT_KEY = 'a'.repeat(64)

export interface TwoHubs {
  provider: Stack
  hub: Stack
  /** The provider's public URL (http://localhost:PORT). */
  providerUrl: string
  issuer: string
  providerRoot: Admin
  stop(): Promise<void>
}

/** Starts the provider and the hub under test; `auth` adds to the hub's auth settings (auth.oidc merged). */
export async function startTwoHubs(
  opts: { auth?: Record<string, unknown>; oidc?: Record<string, unknown>; hub?: Record<string, unknown> } = {},
): Promise<TwoHubs> {
  const [providerPort, hubPort] = await Promise.all([freePort(), freePort()])
  const providerUrl = `http://localhost:${providerPort}`
  const hubUrl = `http://127.0.0.1:${hubPort}`
  const issuer = `${providerUrl}/hub/oidc`
  const provider = await startStack({
    port: providerPort,
    publicUrl: providerUrl,
    oidc: {
      clients: [
        {
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUris: [`${hubUrl}/hub/oauth_callback`],
          postLogoutRedirectUris: [`${hubUrl}/hub/login?logged_out=1`],
        },
      ],
    },
  })
  let hub: Stack | undefined
  try {
    hub = await startStack({
      port: hubPort,
      publicUrl: hubUrl,
      ...(opts.hub ?? {}),
      auth: {
        kind: 'oidc',
        enableAuthState: true,
        cryptKeys: [CRYPT_KEY],
        admins: ['hubroot'],
        ...(opts.auth ?? {}),
        oidc: {
          issuer,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          scopes: ['openid', 'profile', 'groups'],
          label: 'Campus Hub',
          ...(opts.oidc ?? {}),
        },
      },
    })
  } catch (err) {
    await provider.stop()
    throw err
  }
  const providerRoot = await rootOf(provider)
  const h = hub
  return {
    provider,
    hub: h,
    providerUrl,
    issuer,
    providerRoot,
    async stop() {
      await Promise.all([h.stop(), provider.stop()])
    },
  }
}

/** A user at the provider with a password, in these provider groups (made when missing). */
export async function providerUser(two: TwoHubs, name: string, password: string, groups: string[] = []) {
  await addUser(two.providerRoot, name, { password })
  for (const g of groups) {
    const res = await fetch(`${two.provider.url}/hub/api/groups/${encodeURIComponent(g)}/users`, {
      method: 'POST',
      headers: { ...two.providerRoot.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ users: [name] }),
    })
    if (res.status === 404) {
      const made = await fetch(`${two.provider.url}/hub/api/groups/${encodeURIComponent(g)}`, {
        method: 'POST',
        headers: { ...two.providerRoot.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ users: [name] }),
      })
      if (made.status !== 201) throw new Error(`group ${g}: ${made.status} ${await made.text()}`)
    } else if (!res.ok) throw new Error(`group ${g}: ${res.status} ${await res.text()}`)
  }
}

/** A browser as two cookie jars, one per site (the hub under test, the provider), following redirects by hand. */
export class TwoSiteBrowser {
  readonly hub: Client
  readonly provider: Client
  constructor(
    readonly two: TwoHubs,
    readonly login?: { name: string; password: string },
  ) {
    this.hub = new Client(two.hub.url)
    this.provider = new Client(two.provider.url)
  }

  private site(url: URL): Client {
    return url.port === new URL(this.two.provider.url).port ? this.provider : this.hub
  }

  /**
   * Follows redirects from `start` (a path at the hub under test) across both sites; at the
   * provider's login page it logs in with `login`. Returns the last response (not a redirect) and its URL.
   */
  async follow(start: string, maxHops = 15): Promise<{ res: Response; url: URL; hops: URL[] }> {
    let url = new URL(start, this.two.hub.url)
    const hops: URL[] = []
    for (let i = 0; i < maxHops; i++) {
      hops.push(url)
      const client = this.site(url)
      const path = url.pathname + url.search
      const res =
        client === this.provider && url.pathname === '/hub/login' && this.login
          ? await client.postForm(path, { username: this.login.name, password: this.login.password })
          : await client.get(path)
      const location = res.headers.get('location')
      if (!location || res.status < 300 || res.status >= 400) return { res, url, hops }
      await res.body?.cancel()
      url = new URL(location, url)
    }
    throw new Error(`too many redirects: ${hops.map((h) => h.href).join(' -> ')}`)
  }

  /** The whole login: from the hub's login button to the hub's home; the hub user's name. */
  async logIn(): Promise<string> {
    const { res, url } = await this.follow('/hub/oauth_login?next=/hub/home')
    const body = await res.text()
    if (res.status !== 200 || url.pathname !== '/hub/home')
      throw new Error(`login ended at ${url.href}: ${res.status} ${body.slice(0, 300)}`)
    const me = await json(await this.hub.api('GET', '/user'))
    return me.name
  }
}

/** A token of the hub under test's admin (auth.admins), issued with the CLI: no login at the provider. */
export function hubAdmin(hub: Stack): { token: string; auth: { authorization: string } } {
  const token = issuedToken(hub, 'hubroot')
  return { token, auth: { authorization: `token ${token}` } }
}
