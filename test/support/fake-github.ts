// A FAKE of GitHub's OAuth and REST endpoints, for the oidc authenticator's github preset: not GitHub,
// only what a login through an OAuth app touches, answering as GitHub documents it. One loopback HTTP
// server is both the web site (/login/oauth/authorize, /login/oauth/access_token) and, under /api/v3,
// the API (GET /user, /user/orgs, /user/teams, paginated with a Link header), as GitHub Enterprise
// lays them out. There is no login form: the authorize endpoint approves at once as `signedIn`, the
// user this browser is logged in to GitHub as.
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { freePort } from '../../runtime/src/ports'

export interface FakeGithubUser {
  login: string
  id: number
  name?: string
  /** Organisation logins the user belongs to. */
  orgs?: string[]
  /** Teams as ORG:TEAM-SLUG. */
  teams?: string[]
}

export interface FakeGithub {
  /** The web address (githubUrl). */
  url: string
  /** The API address (githubApiUrl). */
  apiUrl: string
  clientId: string
  clientSecret: string
  /** Who the browser is logged in to GitHub as: the authorize endpoint approves as them. */
  signedIn: string | undefined
  /** Requests the API answered, by path (for asserting what the hub asked). */
  apiCalls: string[]
  /** While true every request is answered 503, as GitHub in an outage. */
  unavailable: boolean
  /** Revokes every token of a user (as removing the app's authorization on github.com does). */
  revokeTokens(login: string): void
  close(): Promise<void>
}

const PAGE_MAX = 100

export async function startFakeGithub(opts: {
  users: FakeGithubUser[]
  redirectUri: string
  clientId?: string
  clientSecret?: string
}): Promise<FakeGithub> {
  const users = new Map(opts.users.map((u) => [u.login, u]))
  const codes = new Map<string, { login: string; redirectUri: string; challenge?: string; expires: number }>()
  const tokens = new Map<string, string>() // token -> login
  const clientId = opts.clientId ?? 'Iv1.fakegithubclient'
  const clientSecret = opts.clientSecret ?? 'fake-github-secret-0123456789abcdef01234567'

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
    res.end(JSON.stringify(body))
  }
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    return new URLSearchParams(Buffer.concat(chunks).toString())
  }

  const fake: FakeGithub = {
    url: '',
    apiUrl: '',
    clientId,
    clientSecret,
    signedIn: undefined,
    apiCalls: [],
    unavailable: false,
    revokeTokens(login) {
      for (const [t, l] of tokens) if (l === login) tokens.delete(t)
    },
    close: () => new Promise((r) => server.close(() => r())),
  }

  function authorize(url: URL, res: ServerResponse) {
    const q = url.searchParams
    if (q.get('client_id') !== clientId) return send(res, 404, { message: 'Not Found' })
    const redirectUri = q.get('redirect_uri') ?? opts.redirectUri
    if (redirectUri !== opts.redirectUri) {
      res.writeHead(400, { 'content-type': 'text/html' })
      return res.end('<p>The redirect_uri is not associated with this application.</p>')
    }
    const back = new URL(redirectUri)
    const state = q.get('state')
    if (state) back.searchParams.set('state', state)
    const who = fake.signedIn && users.get(fake.signedIn)
    if (!who) back.searchParams.set('error', 'access_denied')
    else {
      const code = randomBytes(10).toString('hex')
      const challenge = q.get('code_challenge') ?? undefined
      if (challenge && q.get('code_challenge_method') !== 'S256') return send(res, 400, { message: 'S256 only' })
      codes.set(code, { login: who.login, redirectUri, challenge, expires: Date.now() + 600_000 })
      back.searchParams.set('code', code)
    }
    res.writeHead(302, { location: back.href })
    res.end()
  }

  async function accessToken(req: IncomingMessage, res: ServerResponse) {
    const form = await readBody(req)
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    const [id, secret] = basic
      ? Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent)
      : [form.get('client_id'), form.get('client_secret')]
    if (id !== clientId || secret !== clientSecret)
      return send(res, 200, {
        error: 'incorrect_client_credentials',
        error_description: 'The client_id and/or client_secret passed are incorrect.',
      })
    const code = form.get('code') ?? ''
    const grant = codes.get(code)
    codes.delete(code) // used once
    const verifier = form.get('code_verifier')
    const pkceOk =
      !grant?.challenge || (verifier && createHash('sha256').update(verifier).digest('base64url') === grant.challenge)
    if (!grant || grant.expires < Date.now() || !pkceOk || form.get('redirect_uri') !== grant.redirectUri)
      // GitHub answers a bad code with 200 and an error in the body
      return send(res, 200, {
        error: 'bad_verification_code',
        error_description: 'The code passed is incorrect or expired.',
      })
    const token = `gho_${randomBytes(18).toString('hex')}`
    tokens.set(token, grant.login)
    send(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:org' })
  }

  function api(path: string, url: URL, req: IncomingMessage, res: ServerResponse) {
    fake.apiCalls.push(path)
    const token = /^(?:Bearer|token) (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? ''
    const login = tokens.get(token)
    const user = login ? users.get(login) : undefined
    if (!user) return send(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' })
    if (path === '/user')
      return send(res, 200, { login: user.login, id: user.id, name: user.name ?? null, type: 'User' })
    const all =
      path === '/user/orgs'
        ? (user.orgs ?? []).map((o) => ({ login: o, id: o.length }))
        : path === '/user/teams'
          ? (user.teams ?? []).map((t) => {
              const [org, slug] = t.split(':')
              return { slug, name: slug, organization: { login: org } }
            })
          : undefined
    if (!all) return send(res, 404, { message: 'Not Found' })
    const perPage = Math.min(Math.max(Number(url.searchParams.get('per_page') ?? 30) || 30, 1), PAGE_MAX)
    const page = Math.max(Number(url.searchParams.get('page') ?? 1) || 1, 1)
    const headers: Record<string, string> = {}
    if (page * perPage < all.length) {
      const next = new URL(url.href, fake.url)
      next.searchParams.set('page', String(page + 1))
      headers.link = `<${next.href}>; rel="next"`
    }
    send(res, 200, all.slice((page - 1) * perPage, page * perPage), headers)
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', fake.url)
    if (fake.unavailable) return send(res, 503, { message: 'Service Unavailable' })
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') return authorize(url, res)
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token')
      return void accessToken(req, res).catch(() => send(res, 500, {}))
    if (req.method === 'GET' && url.pathname.startsWith('/api/v3/'))
      return api(url.pathname.slice('/api/v3'.length), url, req, res)
    send(res, 404, { message: 'Not Found' })
  })
  const port = await freePort()
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r))
  fake.url = `http://127.0.0.1:${port}`
  fake.apiUrl = `${fake.url}/api/v3`
  return fake
}
