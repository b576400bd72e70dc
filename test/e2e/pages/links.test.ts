// Every link, form target and redirect the hub's pages emit leads somewhere: a crawl from / and the
// pages, logged out, as an admin and as a user, through the real proxy; nothing answers 404 or 5xx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { Client, json } from '../../support/client'
import { okServerSpawner } from '../../support/servers'
import { cli, person, rootOf } from '../../support/people'
import { waitFor } from '../../../runtime/src/wait'

let stack: Stack

beforeAll(async () => {
  stack = await startStack({ auth: { native: { scryptCost: 1024, allowSignup: true } }, spawner: okServerSpawner() })
})
afterAll(async () => {
  await stack?.stop()
})

/** A user with the password `${name}-password`, added by an operator with the CLI. */
function newUser(name: string): void {
  cli(stack, ['user', 'add', name, '--password-stdin'], `${name}-password`)
}

/** A user who signed up on the sign-up page and waits for an admin's approval. */
async function signedUp(name: string): Promise<void> {
  const res = await new Client(stack.url).postForm('/hub/signup', { username: name, password: `${name}-password` })
  expect(res.status).toBe(200)
  expect(await res.text()).toContain('An administrator must approve it')
}

async function loggedIn(name: string): Promise<Client> {
  const client = new Client(stack.url)
  expect((await client.login(name, `${name}-password`)).status).toBe(302)
  return client
}

const ENTITIES: Record<string, string> = { amp: '&', quot: '"', '#39': "'", '#x27': "'", lt: '<', gt: '>' }
const unescapeHtml = (s: string) => s.replace(/&(amp|quot|#39|#x27|lt|gt);/g, (_, e: string) => ENTITIES[e])

/** The targets a page emits: links, and forms with their method. */
function targets(html: string): Array<{ url: string; method: 'GET' | 'POST' }> {
  const out: Array<{ url: string; method: 'GET' | 'POST' }> = []
  for (const m of html.matchAll(/<a\b[^>]*\bhref="([^"]*)"/g)) out.push({ url: unescapeHtml(m[1]), method: 'GET' })
  for (const m of html.matchAll(/<form\b([^>]*)>/g)) {
    const action = /\baction="([^"]*)"/.exec(m[1])?.[1]
    const method = /\bmethod="post"/i.test(m[1]) ? 'POST' : 'GET'
    if (action !== undefined) out.push({ url: unescapeHtml(action), method })
  }
  return out
}

interface Visit {
  url: string
  status: number
  from: string
  how: string
}

/**
 * Requests every seed, then every target the answers emit (href, form action, Location) that lies
 * within /hub/ or /user/, each once. Pages of the hub are read for more targets; users' servers are
 * requested but not crawled (their own links are Jupyter's business). POST targets are requested
 * with GET, as a bookmark or a typed address would. The logout link is followed with a throwaway
 * session of the same user (`fresh`), so the crawl stays logged in.
 */
async function crawl(client: Client, seeds: string[], fresh?: () => Promise<Client>): Promise<Visit[]> {
  const seen = new Set<string>()
  const queue: Array<{ url: string; from: string; how: string }> = seeds.map((url) => ({
    url,
    from: '(seed)',
    how: 'seed',
  }))
  const visits: Visit[] = []
  const add = (raw: string, from: string, how: string) => {
    const u = new URL(raw, stack.url + from)
    if (u.origin !== stack.url) return
    if (!(
      u.pathname === '/' ||
      u.pathname === '/hub' ||
      u.pathname.startsWith('/hub/') ||
      u.pathname.startsWith('/user/')
    ))
      return
    if (u.pathname.startsWith('/hub/api/')) return // the REST API has its own tests; pages link no API address
    queue.push({ url: u.pathname + u.search, from, how })
  }
  while (queue.length) {
    const { url, from, how } = queue.shift()!
    if (seen.has(url)) continue
    seen.add(url)
    expect(seen.size, 'the crawl stays small').toBeLessThan(400)
    const by = url.startsWith('/hub/logout') && fresh ? await fresh() : client
    const res = await by.get(url, { accept: 'text/html' })
    visits.push({ url, status: res.status, from, how })
    const location = res.headers.get('location')
    if (location) add(location, url, 'Location')
    const type = res.headers.get('content-type') ?? ''
    const body = await res.text()
    if (type.includes('text/html') && (url === '/' || url === '/hub' || url.startsWith('/hub/'))) {
      for (const t of targets(body)) add(t.url, url, t.method === 'POST' ? 'form POST' : 'href')
    }
  }
  return visits
}

/** A share code is a credential: never printed. */
const hideCodes = (text: string) => text.replace(/code(=|%3D)[\w-]+/g, 'code$1…')
const broken = (visits: Visit[]) =>
  visits
    .filter((v) => v.status === 404 || v.status >= 500)
    .map((v) => hideCodes(`${v.status} ${v.url} (${v.how} from ${v.from})`))

// The pages that show a stopped server come first: '/', '/hub/' and '/hub/spawn' start it.
const pageSeeds = (user: string, other: string) => [
  '/hub/home',
  `/hub/user/${user}/tree`,
  `/hub/spawn-pending/${user}`,
  '/hub/token',
  '/hub/admin',
  '/hub/change-password',
  '/hub/login',
  '/hub/signup',
  '/hub/logout',
  `/user/${other}/`,
  `/hub/user/${other}/`,
  '/',
  '/hub',
  '/hub/',
  '/hub/spawn',
  '/hub/user-redirect/tree?clone=1',
  `/user/${user}/`,
]

describe('every link the pages emit', () => {
  it('leads somewhere for an admin, a user and a visitor, with servers stopped and running', async () => {
    // the admin with the CLI, ada added by the admin: each holds a token from their session (for the revoke form)
    const root = await rootOf(stack, 'crawl-admin', 'crawl-admin-password')
    await person(root, 'crawl-ada')
    await signedUp('crawl-bob') // the admin page shows an Approve form for bob
    const admin = await loggedIn('crawl-admin')
    const ada = await loggedIn('crawl-ada')
    const visitor = new Client(stack.url)

    const all: Visit[] = []
    // First pass: no server running (the pages show Start forms; following /hub/spawn starts one).
    all.push(...(await crawl(admin, pageSeeds('crawl-admin', 'crawl-ada'), () => loggedIn('crawl-admin'))))
    all.push(...(await crawl(ada, pageSeeds('crawl-ada', 'crawl-admin'), () => loggedIn('crawl-ada'))))
    all.push(...(await crawl(visitor, pageSeeds('crawl-ada', 'crawl-admin'))))
    // Second pass: both servers running (Open and Stop, the admin's Stop server forms).
    for (const [name, client] of [
      ['crawl-admin', admin],
      ['crawl-ada', ada],
    ] as const) {
      await waitFor(
        `${name}'s server to run`,
        async () => (await json(await client.api('GET', '/user'))).servers['']?.ready,
        { timeoutMs: 30_000, intervalMs: 200 },
      )
    }
    // and an invitation to the admin's server, as ada and a visitor follow it
    const made = await admin.api('POST', '/share-codes/crawl-admin/', {})
    expect(made.status).toBe(200)
    const { accept_url: acceptUrl } = await json(made)
    all.push(...(await crawl(admin, pageSeeds('crawl-admin', 'crawl-ada'), () => loggedIn('crawl-admin'))))
    all.push(...(await crawl(ada, [...pageSeeds('crawl-ada', 'crawl-admin'), acceptUrl], () => loggedIn('crawl-ada'))))
    all.push(...(await crawl(visitor, [acceptUrl])))

    const urls = new Set(all.map((v) => v.url.split('?')[0]))
    // the crawl reached what the pages link to, not only its seeds
    for (const u of [
      '/hub/accept-share',
      '/hub/stop',
      '/hub/admin/users/crawl-ada/servers/stop',
      '/hub/spawn/crawl-ada',
      '/hub/admin/approve/crawl-bob',
      '/hub/admin/users',
      '/hub/user/crawl-ada/tree',
    ])
      expect(urls).toContain(u)
    expect([...urls].some((u) => /^\/hub\/token\/[^/]+\/revoke$/.test(u))).toBe(true)
    if (process.env.PRINT_CRAWL)
      console.log(
        all
          .map((v) => `${v.status} ${v.url} <- ${v.how} ${v.from}`)
          .map(hideCodes)
          .join('\n'),
      )
    expect(broken(all)).toEqual([])
    // the sessions survived the crawl (logout was followed with throwaway sessions)
    expect((await admin.api('GET', '/user')).status).toBe(200)
    expect((await ada.api('GET', '/user')).status).toBe(200)
  })
})

describe('/hub/, /hub and /hub/user-redirect/', () => {
  it('send a visitor to the login page, with the address to come back to', async () => {
    const visitor = new Client(stack.url)
    expect((await visitor.get('/')).headers.get('location')).toBe('/hub/')
    for (const path of ['/hub/', '/hub', '/hub/user-redirect/tree/x.ipynb?clone=1']) {
      const res = await visitor.get(path)
      expect(res.status, path).toBe(302)
      expect(res.headers.get('location'), path).toBe(`/hub/login?next=${encodeURIComponent(path)}`)
    }
  })

  it('send a logged-in user to the spawn flow, then to the running server', async () => {
    newUser('root-cleo')
    const cleo = await loggedIn('root-cleo')
    for (const path of ['/hub/', '/hub'])
      expect((await cleo.get(path)).headers.get('location'), path).toBe('/hub/spawn')
    expect((await cleo.get('/hub/spawn')).headers.get('location')).toBe('/hub/spawn-pending/root-cleo')
    await waitFor('the server to run', async () => (await json(await cleo.api('GET', '/user'))).servers['']?.ready, {
      timeoutMs: 30_000,
      intervalMs: 200,
    })
    for (const path of ['/hub/', '/hub'])
      expect((await cleo.get(path)).headers.get('location'), path).toBe('/user/root-cleo/')
    const redirect = await cleo.get('/hub/user-redirect/tree/x.ipynb?clone=1')
    expect(redirect.status).toBe(302)
    expect(redirect.headers.get('location')).toBe('/user/root-cleo/tree/x.ipynb?clone=1')
    expect((await cleo.get('/hub/user-redirect/')).headers.get('location')).toBe('/user/root-cleo/')
    // percent-encoding is passed on as sent (a notebook named café, an encoded line break), and no
    // spelling leads off the user's own server
    const cases: Array<[string, string]> = [
      ['/hub/user-redirect/tree/caf%C3%A9.ipynb', '/user/root-cleo/tree/caf%C3%A9.ipynb'],
      ['/hub/user-redirect/tree/a%0D%0Ab', '/user/root-cleo/tree/a%0D%0Ab'],
      ['/hub/user-redirect//evil.example/x', '/user/root-cleo/evil.example/x'],
      ['/hub/user-redirect/%2F%2Fevil.example', '/user/root-cleo/%2F%2Fevil.example'],
    ]
    for (const [from, to] of cases) {
      const res = await cleo.get(from)
      expect(res.status, from).toBe(302)
      expect(res.headers.get('location'), from).toBe(to)
    }
    const visitor = await new Client(stack.url).get('/hub/user-redirect/tree/caf%C3%A9.ipynb')
    expect(visitor.headers.get('location')).toBe(
      `/hub/login?next=${encodeURIComponent('/hub/user-redirect/tree/caf%C3%A9.ipynb')}`,
    )
  })

  it('answer 405 with Allow: POST to a GET of a form-only address', async () => {
    newUser('root-dan')
    const dan = await loggedIn('root-dan')
    for (const client of [dan, new Client(stack.url)]) {
      const res = await client.get('/hub/stop')
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toBe('POST')
      expect(await res.text()).toContain('href="/hub/home"')
    }
  })
})
