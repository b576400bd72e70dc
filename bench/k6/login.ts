/*
 * login — many users logging in at the same moment.
 *
 * Measures the hub's login path under a burst: USERS VUs (shared-iterations, one iteration each)
 * each post the login form (POST /hub/login with username, password and the _xsrf field, plus the
 * matching edgehub-xsrf cookie) as users bench-0 … bench-(USERS-1), all at once. A login counts
 * when the hub answers 302 with an edgehub-session cookie.
 *
 * - Trend login_duration: each login's request duration (med, p99, p99.9 in the summary);
 * - Trend login_done_at: ms from the scenario's start until each login completed; its max is the
 *   time the whole burst took, so logins/s = logins (count) / (login_done_at max / 1000);
 * - Counter logins, Counter login_failures (any other answer; tagged with the status).
 *
 * The users must exist with the password PASSWORD: set ADMIN_USER and ADMIN_PASSWORD to have
 * setup() create the missing ones through the admin page, or create them with the edgehub CLI
 * (bench/README.md). Each session is logged out right after its login is recorded (LOGOUT=0 keeps
 * them; they then expire after sessions.maxAgeSec).
 *
 * Mirrors the local scenario bench/scenarios/login.ts (`npm run bench -- login`).
 *
 * Environment:
 *   BASE_URL                   required
 *   USERS                      users logging in at once (default params.login.users)
 *   PASSWORD                   default params.login.password
 *   ADMIN_USER, ADMIN_PASSWORD optional: create missing users first
 *   LOGOUT                     1 (default) | 0
 *   MAX_DURATION               give up after this long (default 5m)
 *
 * Example:
 *   k6 run -e BASE_URL=https://hub.example.org -e USERS=500 bench/k6/login.ts
 */
import http from 'k6/http'
import exec from 'k6/execution'
import { Counter, Trend } from 'k6/metrics'
import type { Options } from 'k6/options'
import { parseParams, userName } from './lib/params.ts'
import { baseUrl, envBool, envInt, envStr, TREND_STATS } from './lib/env.ts'
import { batchOptions, createUsers, freshJar, loginRequest, SESSION_COOKIE, sessionOf } from './lib/creds.ts'
import { setupTimeout } from './lib/load.ts'

const params = parseParams(open('../params.json'))

const BASE = baseUrl()
const USERS = envInt('USERS', params.login.users)
const PASSWORD = envStr('PASSWORD', params.login.password)
const LOGOUT = envBool('LOGOUT', true)

const loginDuration = new Trend('login_duration', true)
const loginDoneAt = new Trend('login_done_at', true)
const logins = new Counter('logins')
const loginFailures = new Counter('login_failures')

export const options: Options = {
  ...batchOptions,
  // a redirect is an answer to count (a 302 to /hub/ is a request that failed), never one to follow
  maxRedirects: 0,
  scenarios: {
    login: { executor: 'shared-iterations', vus: USERS, iterations: USERS, maxDuration: envStr('MAX_DURATION', '5m') },
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: setupTimeout(USERS),
  thresholds: {
    login_duration: ['max>=0'],
    login_done_at: ['max>=0'],
    logins: ['count>0'],
    login_failures: ['count==0'],
  },
}

export function setup(): void {
  createUsers(BASE, Array.from({ length: USERS }, (_, i) => userName(params, i)), PASSWORD)
}

export default function (): void {
  const user = userName(params, exec.scenario.iterationInTest)
  const req = loginRequest(BASE, user, PASSWORD, { kind: 'login' })
  const res = http.request(req.method, req.url as string, req.body, req.params)
  const session = sessionOf(res)
  if (!session) {
    loginFailures.add(1, { status: String(res.status) })
    return
  }
  loginDuration.add(res.timings.duration)
  loginDoneAt.add(Date.now() - exec.scenario.startTime)
  logins.add(1)
  if (LOGOUT) {
    http.get(`${BASE}/hub/logout`, { redirects: 0, jar: freshJar(), headers: { Cookie: `${SESSION_COOKIE}=${session}` }, tags: { kind: 'logout', name: 'GET /hub/logout' } })
  }
}
