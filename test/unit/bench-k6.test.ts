// The k6 scripts (bench/k6) stay in step with the local harness: one script per scenario, every
// parameter from bench/params.json (which the harness reads too), no path template of their own.
// And they send only XSRF tokens the hub gave them (test/e2e/bench/k6-requests.test.ts replays the
// requests against a real hub): nothing made up, every token read from an answer.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as requests from '../../bench/k6/lib/requests'

const ROOT = resolve(import.meta.dirname, '../..')
const K6 = join(ROOT, 'bench/k6')
const SCENARIOS = ['http', 'routes', 'websocket', 'churn', 'login', 'spawn', 'api', 'soak'] as const
const params = JSON.parse(readFileSync(join(ROOT, 'bench/params.json'), 'utf8')) as Record<string, unknown>

/** The params.json keys (under the scenario's section) holding the path templates each script requests. */
const PATH_KEYS: Record<(typeof SCENARIOS)[number], string[]> = {
  http: ['path'],
  routes: ['path'],
  websocket: ['path'],
  churn: ['path'],
  login: [],
  spawn: ['k6.path'],
  api: [],
  soak: ['path', 'wsPath'],
}

const read = (file: string) => readFileSync(file, 'utf8')
/** The code without comments (the header comments quote paths as examples). */
const code = (src: string) => src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')

function lookup(path: string): unknown {
  let v: unknown = params
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined
  return v
}

describe('bench/k6', () => {
  it('has one script per benchmark scenario, each with its header comment', () => {
    for (const name of SCENARIOS) {
      const file = join(K6, `${name}.ts`)
      expect(existsSync(file), `bench/k6/${name}.ts`).toBe(true)
      const src = read(file)
      expect(src.startsWith('/*'), `${name}.ts starts with its comment block`).toBe(true)
      const header = src.slice(0, src.indexOf('*/'))
      expect(header).toContain('k6 run ')
      expect(header).toContain(`bench/scenarios/${name}.ts`)
      expect(header).toContain('BASE_URL')
    }
  })

  it('reads every parameter from bench/params.json', () => {
    for (const name of SCENARIOS) {
      const src = code(read(join(K6, `${name}.ts`)))
      expect(src, `${name}.ts opens params.json`).toContain("parseParams(open('../params.json'))")
      expect(src, `${name}.ts uses params.${name}`).toMatch(new RegExp(`params\\.${name}\\.\\w+`))
    }
  })

  it('takes its path templates from params.json and hard-codes none', () => {
    for (const name of SCENARIOS) {
      const src = code(read(join(K6, `${name}.ts`)))
      for (const key of PATH_KEYS[name]) {
        const value = lookup(`${name}.${key}`)
        expect(typeof value === 'string' && value.includes('{user}'), `params.${name}.${key} is a path template`).toBe(
          true,
        )
        expect(src, `${name}.ts uses params.${name}.${key}`).toContain(`params.${name}.${key}`)
      }
    }
    const files = [
      ...SCENARIOS.map((n) => join(K6, `${n}.ts`)),
      ...readdirSync(join(K6, 'lib'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => join(K6, 'lib', f)),
    ]
    for (const file of files) {
      expect(code(read(file)), `${file} spells out no /user/{user}… template`).not.toMatch(/['"`]\/[^'"`\n]*\{user\}/)
    }
  })

  it('names only params.json keys that exist', () => {
    for (const name of SCENARIOS) {
      const src = code(read(join(K6, `${name}.ts`)))
      for (const [, path] of src.matchAll(/(?<![\w/.])params\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)/g)) {
        // walk the path while it names objects; what follows a string, number or array is a method
        let v: unknown = params
        for (const k of path.split('.')) {
          if (!v || typeof v !== 'object' || Array.isArray(v)) break
          expect(Object.hasOwn(v, k), `${name}.ts: params.${path} (no "${k}" in bench/params.json)`).toBe(true)
          v = (v as Record<string, unknown>)[k]
        }
      }
    }
  })

  it('follows no redirect and tolerates no failed request', () => {
    for (const name of SCENARIOS) {
      const src = code(read(join(K6, `${name}.ts`)))
      const options = src.slice(src.indexOf('export const options'))
      expect(options, `${name}.ts sets maxRedirects: 0 in its options`).toMatch(
        /^export const options: Options = \{[\s\S]*?\n {2}maxRedirects: 0,\n/,
      )
      expect(src, `${name}.ts: no failure rate tolerated`).not.toMatch(/rate\s*<\s*0\.\d|rate\s*>\s*0\.9/)
    }
    const load = code(read(join(K6, 'lib/load.ts')))
    expect(load).toContain("'http_req_failed{kind:load}': ['rate==0']")
    expect(load).toContain('redirects: 0')
  })
})

describe('bench/k6 XSRF tokens', () => {
  const codeFiles = () => [
    ...readdirSync(K6)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(K6, f)),
    ...readdirSync(join(K6, 'lib'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(K6, 'lib', f)),
  ]
  const REQUESTS = join(K6, 'lib/requests.ts')
  const rel = (file: string) => file.slice(ROOT.length + 1)

  it('puts XSRF tokens into requests in one place, lib/requests.ts', () => {
    for (const file of codeFiles()) {
      if (file === REQUESTS) continue
      const src = code(read(file))
      expect(src, `${rel(file)}: a _xsrf form field`).not.toMatch(/\b_xsrf['"]?\s*[:=]/)
      expect(src, `${rel(file)}: an X-XSRFToken header`).not.toMatch(/['"]x-xsrftoken['"]\s*:/i)
      expect(src, `${rel(file)}: an edgehub-xsrf cookie`).not.toMatch(/XSRF_COOKIE\}=|edgehub-xsrf=/i)
      // no Session put together by hand: sessions come from a login's answer (sessionOf)
      expect(src, `${rel(file)}: an xsrf property`).not.toMatch(/\bxsrf\s*:/)
    }
  })

  it('makes up no XSRF value: no randomness where tokens are handled, every token variable read from an answer', () => {
    for (const file of codeFiles()) {
      const src = code(read(file))
      if (!/xsrf/i.test(src)) continue
      expect(src, `${rel(file)} handles XSRF tokens and generates random values`).not.toMatch(
        /Math\.random|k6\/crypto|randomBytes|randomString|getRandomValues|randomUUID/,
      )
      // a constant of token shape spelled out in code
      expect(src, `${rel(file)}: a literal token`).not.toMatch(
        /['"`][A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]{43}['"`]|['"`][A-Za-z0-9_-]{32}['"`]/,
      )
      if (file === REQUESTS) continue
      // outside requests.ts a token variable is empty or read from the login page's answer
      for (const [assignment, rhs] of src.matchAll(/\b\w*xsrf\w*\s*(?::\s*string\s*)?=(?![=>])\s*([^\n;]*)/gi)) {
        expect(
          rhs.trim() === "''" || rhs.trim().startsWith('formXsrfOf(answerOf('),
          `${rel(file)}: ${assignment.trim()}`,
        ).toBe(true)
      }
    }
    expect(code(read(join(K6, 'lib/creds.ts')))).not.toMatch(/export const XSRF\b/)
  })

  const base = 'https://hub.example.org'
  const FORM = 'form-token-from-the-page'
  const session: requests.Session = { cookie: 'session-cookie', xsrf: 'session-token-from-the-login' }
  /** Every request builder with arguments: the XSRF token each carries is one given to it. */
  const built: Record<string, () => requests.HubRequest> = {
    loginPageRequest: () => requests.loginPageRequest(base),
    loginRequest: () => requests.loginRequest(base, 'bench-0', 'pw', FORM),
    addUserRequest: () => requests.addUserRequest(base, session, 'bench-0', 'pw'),
    issueTokenRequest: () => requests.issueTokenRequest(base, 'bench-0', session, 'note', 60),
    logoutRequest: () => requests.logoutRequest(base, session),
    revokeTokenRequest: () => requests.revokeTokenRequest(base, 'bench-0', 'id', 'api-token'),
  }
  const xsrfOf = (r: requests.HubRequest) => {
    const cookie = /(?:^|;\s*)edgehub-xsrf=([^;]*)/.exec(r.headers.Cookie ?? '')?.[1]
    const field =
      r.headers['Content-Type'] === 'application/x-www-form-urlencoded'
        ? (new URLSearchParams(r.body ?? '').get('_xsrf') ?? undefined)
        : undefined
    return { cookie, field, header: r.headers['X-XSRFToken'] }
  }

  it("sends the token it was given: the page's in the login form, the session's with the session", () => {
    const builders = Object.keys(requests).filter((k) => k.endsWith('Request'))
    expect(Object.keys(built).sort(), 'every request builder is listed here').toEqual(builders.sort())
    expect(xsrfOf(built.loginPageRequest())).toEqual({ cookie: undefined, field: undefined, header: undefined })
    expect(xsrfOf(built.loginRequest())).toEqual({ cookie: FORM, field: FORM, header: undefined })
    expect(xsrfOf(built.addUserRequest())).toEqual({ cookie: session.xsrf, field: session.xsrf, header: undefined })
    expect(xsrfOf(built.issueTokenRequest())).toEqual({ cookie: session.xsrf, field: undefined, header: session.xsrf })
    expect(xsrfOf(built.logoutRequest()).header).toBeUndefined()
    expect(xsrfOf(built.revokeTokenRequest())).toEqual({ cookie: undefined, field: undefined, header: undefined })
    expect(requests.sessionApiHeaders(session)).toEqual({
      Cookie: 'edgehub-session=session-cookie; edgehub-xsrf=session-token-from-the-login',
      'X-XSRFToken': session.xsrf,
    })
  })

  it('reads tokens from answers and gives none when the answer holds none', () => {
    const page =
      '<form method="post"><input type="hidden" name="_xsrf" value="k1.from-the-field"><input name="username"></form>'
    expect(requests.formXsrfOf({ status: 200, body: page, cookies: { 'edgehub-xsrf': 'k1.from-the-cookie' } })).toBe(
      'k1.from-the-cookie',
    )
    expect(requests.formXsrfOf({ status: 200, body: page, cookies: {} })).toBe('k1.from-the-field')
    expect(requests.formXsrfOf({ status: 200, body: '<form></form>', cookies: {} })).toBe('')
    expect(requests.formXsrfOf({ status: 502, body: page, cookies: { 'edgehub-xsrf': 'k1.x' } })).toBe('')
    expect(
      requests.sessionOf({ status: 302, body: '', cookies: { 'edgehub-session': 's', 'edgehub-xsrf': 'k1.t' } }),
    ).toEqual({ cookie: 's', xsrf: 'k1.t' })
    // a login whose answer carries no session token gives no session to use for API calls
    expect(requests.sessionOf({ status: 302, body: '', cookies: { 'edgehub-session': 's' } })).toBeNull()
    expect(requests.sessionOf({ status: 403, body: '', cookies: { 'edgehub-xsrf': 'k1.t' } })).toBeNull()
  })
})
