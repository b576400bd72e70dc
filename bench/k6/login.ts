/*
 * login — many users logging in at the same moment.
 *
 * Measures the hub's login path under a burst: USERS VUs (shared-iterations, one iteration each)
 * each load the login page (GET /hub/login, for the form's XSRF token, bound to the client until it
 * logs in) within the first PAGE_WINDOW_SEC of the scenario, then all post the login form at once
 * when that window ends (POST /hub/login with username, password and the page's token in the _xsrf
 * field and the edgehub-xsrf cookie) as users bench-0 … bench-(USERS-1). As in the local scenario,
 * the page loads come before the storm and are in none of its figures. A login counts when the hub
 * answers 302 with an edgehub-session cookie and the session's edgehub-xsrf token.
 *
 * - Trend login_duration: each login's request duration (med, p99, p99.9 in the summary);
 * - Trend login_done_at: ms from the storm's start (the window's end) until each login completed;
 *   its max is the time the whole burst took, so logins/s = logins (count) / (login_done_at max / 1000);
 * - Counter logins, Counter login_failures (any other answer; tagged with the status);
 * - Counter login_late: VUs whose page load ended after the window (their post started late; make
 *   PAGE_WINDOW_SEC longer), which fails the run.
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
 *   PAGE_WINDOW_SEC            seconds for every VU to load the login page before the posts
 *                              (default 5, 0.1 to 60)
 *   MAX_DURATION               give up after this long (default 5m)
 *
 * Example:
 *   k6 run -e BASE_URL=https://hub.example.org -e USERS=500 bench/k6/login.ts
 */
import http from 'k6/http'
import { sleep } from 'k6'
import exec from 'k6/execution'
import { Counter, Trend } from 'k6/metrics'
import type { Options } from 'k6/options'
import { parseParams, userName } from './lib/params.ts'
import { baseUrl, envBool, envInt, envNum, envStr, TREND_STATS } from './lib/env.ts'
import { batchOptions, createUsers, loginPost, loginSession, send } from './lib/creds.ts'
import { logoutRequest } from './lib/requests.ts'
import { setupTimeout } from './lib/load.ts'

const params = parseParams(open('../params.json'))

const BASE = baseUrl()
const USERS = envInt('USERS', params.login.users)
const PASSWORD = envStr('PASSWORD', params.login.password)
const LOGOUT = envBool('LOGOUT', true)
const PAGE_WINDOW_SEC = envNum('PAGE_WINDOW_SEC', 5)
if (!(PAGE_WINDOW_SEC >= 0.1 && PAGE_WINDOW_SEC <= 60))
  throw new Error(`PAGE_WINDOW_SEC=${PAGE_WINDOW_SEC}: expected seconds from 0.1 to 60`)

const loginDuration = new Trend('login_duration', true)
const loginDoneAt = new Trend('login_done_at', true)
const logins = new Counter('logins')
const loginFailures = new Counter('login_failures')
const loginLate = new Counter('login_late')

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
    login_late: ['count==0'],
  },
}

export function setup(): void {
  createUsers(
    BASE,
    Array.from({ length: USERS }, (_, i) => userName(params, i)),
    PASSWORD,
  )
}

export default function (): void {
  const user = userName(params, exec.scenario.iterationInTest)
  // loads this VU's login page (its form's XSRF token, once per VU: see loginFormToken) before the storm
  let req: ReturnType<typeof loginPost>
  try {
    req = loginPost(BASE, user, PASSWORD, { kind: 'login' })
  } catch (err) {
    console.warn(String(err))
    loginFailures.add(1, { status: 'no login page' })
    return
  }
  // k6 VUs cannot wait for one another: the storm starts at one instant every VU knows
  const stormAt = exec.scenario.startTime + PAGE_WINDOW_SEC * 1000
  const early = stormAt - Date.now()
  if (early > 0) sleep(early / 1000)
  else loginLate.add(1)
  const res = http.request(req.method, req.url as string, req.body, req.params)
  const session = loginSession(res)
  if (!session) {
    loginFailures.add(1, { status: String(res.status) })
    return
  }
  loginDuration.add(res.timings.duration)
  loginDoneAt.add(Date.now() - stormAt)
  logins.add(1)
  if (LOGOUT) send(logoutRequest(BASE, session), { kind: 'logout' })
}
