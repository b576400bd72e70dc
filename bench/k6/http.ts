/*
 * http — proxied HTTP requests with a valid credential.
 *
 * Measures the proxy's data plane of a real deployment: VUS closed-loop clients send GETs to
 * /user/NAME/… (params.http.path) of users bench-0 … bench-(USERS-1) in turn, each with that
 * user's session cookie (AUTH=cookie, the default) or API token (AUTH=token), for DURATION.
 * Requests/s is the count of http_reqs{kind:load} divided by DURATION (the per-second figure k6
 * prints next to it is over the whole run, setup() included); http_req_duration{kind:load} gives
 * p50 (med), p99 and p99.9. Every request must get EXPECT_STATUS from the user's server.
 *
 * Mirrors the local scenario bench/scenarios/http.ts (`npm run bench -- http`).
 *
 * Environment:
 *   BASE_URL        required, e.g. https://hub.example.org
 *   AUTH            cookie | token (default cookie)
 *   USERS           benchmark users (default params.http.users)
 *   VUS             concurrent clients (default params.http.connections)
 *   DURATION        e.g. 30s, 2m (default params.http.durationSec)
 *   PATH_TEMPLATE   default params.http.path; {user} is the user name
 *   EXPECT_STATUS   default 200 (a stock Jupyter server answers 404 at /user/NAME/bench: use
 *                   PATH_TEMPLATE=/user/{user}/api/status instead)
 *   START_SERVERS   1 (default): setup() starts users' servers that are not running
 *   credentials     PASSWORD, ADMIN_USER, ADMIN_PASSWORD, USER_TOKENS_FILE, TOKEN_TTL_SEC: see
 *                   lib/creds.ts and bench/README.md
 *
 * Example:
 *   k6 run -e BASE_URL=https://hub.example.org -e AUTH=token -e DURATION=60s bench/k6/http.ts
 */
import exec from 'k6/execution'
import type { Options } from 'k6/options'
import { parseParams } from './lib/params.ts'
import { baseUrl, envChoice, envDuration, envInt, envStr, TREND_STATS } from './lib/env.ts'
import { batchOptions, loadUserTokens, releaseCredentials, type Creds } from './lib/creds.ts'
import { loadGet, loadThresholds, prepareLoad, setupTimeout } from './lib/load.ts'

const params = parseParams(open('../params.json'))
loadUserTokens(params)

const BASE = baseUrl()
const AUTH = envChoice('AUTH', ['cookie', 'token'] as const)
const USERS = envInt('USERS', params.http.users)
const PATH_TEMPLATE = envStr('PATH_TEMPLATE', params.http.path)
const VUS = envInt('VUS', params.http.connections)
const DURATION = envDuration('DURATION', params.http.durationSec)

export const options: Options = {
  ...batchOptions,
  // a redirect is an answer to count (a 302 to /hub/ is a request that failed), never one to follow
  maxRedirects: 0,
  scenarios: {
    http: { executor: 'constant-vus', vus: VUS, duration: DURATION.k6, tags: { auth: AUTH } },
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: setupTimeout(USERS),
  teardownTimeout: setupTimeout(USERS),
  thresholds: loadThresholds({ checks: ['rate==1'] }),
}

export function setup(): Creds {
  return prepareLoad(BASE, params, AUTH, USERS, PATH_TEMPLATE)
}

export default function (creds: Creds): void {
  loadGet(BASE, params, creds, AUTH, PATH_TEMPLATE, exec.scenario.iterationInTest % USERS)
}

export function teardown(creds: Creds): void {
  releaseCredentials(BASE, params, creds)
}
