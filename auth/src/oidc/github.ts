// GitHub is OAuth 2, not OpenID Connect: the user comes from its REST API with the access token
// (GET /user), the groups from /user/orgs (ORG) and /user/teams (ORG:TEAM), as OAuthenticator's
// GitHubOAuthenticator reads them.
import * as oidc from 'openid-client'
import type { Json } from '../authenticator'

const HEADERS = { accept: 'application/vnd.github+json', 'user-agent': 'edgehub', 'x-github-api-version': '2022-11-28' }
/** Pages of 100 followed at most, per list (orgs, teams). */
const MAX_PAGES = 10

/** A GitHub API answer that is not a success: 401 means the token is no longer good. */
export class GithubApiError extends Error {
  constructor(
    readonly status: number,
    what: string,
  ) {
    super(`GitHub API ${what}: ${status}`)
  }
}

async function getJson(c: oidc.Configuration, token: string, url: URL): Promise<{ body: Json; next?: URL }> {
  const res = await oidc.fetchProtectedResource(c, token, url, 'GET', undefined, new Headers(HEADERS))
  if (!res.ok) {
    await res.body?.cancel()
    throw new GithubApiError(res.status, url.pathname)
  }
  const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1]
  return { body: (await res.json()) as Json, next: next ? new URL(next) : undefined }
}

async function list(c: oidc.Configuration, token: string, url: URL): Promise<Json[]> {
  const out: Json[] = []
  let at: URL | undefined = url
  at.searchParams.set('per_page', '100')
  for (let page = 0; at && page < MAX_PAGES; page++) {
    const { body, next } = await getJson(c, token, at)
    if (Array.isArray(body)) out.push(...body)
    at = next && next.origin === url.origin ? next : undefined
  }
  return out
}

const str = (v: Json | undefined) => (typeof v === 'string' ? v : undefined)
const obj = (v: Json | undefined) => (v && typeof v === 'object' && !Array.isArray(v) ? v : {})

/** The user's claims (GitHub's /user answer, trimmed) and groups: ORG for each organisation, ORG:TEAM for each team. */
export async function githubUser(
  c: oidc.Configuration,
  token: string,
  apiUrl: string,
): Promise<{ claims: { [k: string]: Json }; groups: string[] }> {
  const api = apiUrl.replace(/\/+$/, '')
  const { body } = await getJson(c, token, new URL(`${api}/user`))
  const u = obj(body)
  const [orgs, teams] = await Promise.all([
    list(c, token, new URL(`${api}/user/orgs`)),
    list(c, token, new URL(`${api}/user/teams`)),
  ])
  const groups = new Set<string>()
  for (const o of orgs) {
    const login = str(obj(o).login)
    if (login) groups.add(login)
  }
  for (const t of teams) {
    const org = str(obj(obj(t).organization).login)
    const slug = str(obj(t).slug)
    if (org && slug) {
      groups.add(org)
      groups.add(`${org}:${slug}`)
    }
  }
  const claims: { [k: string]: Json } = {}
  for (const k of ['login', 'id', 'name', 'email']) if (u[k] !== undefined) claims[k] = u[k]
  return { claims, groups: [...groups] }
}
