/*
 * routes — the http load spread over many routes.
 *
 * Measures how the proxy's throughput and latency hold up as the route table grows: the same
 * proxied GETs as http.ts, but over ROUTES users (one of params.routes.sizes: 100, 10000, 100000),
 * every request to the next user in turn, so with many routes nearly every request is another
 * user, another route and another credential. Run it once per size and compare
 * http_reqs{kind:load} (count / DURATION = requests/s, as in http.ts) and
 * http_req_duration{kind:load} (med, p99, p99.9).
 *
 * Mirrors the local scenario bench/scenarios/routes.ts (`npm run bench -- routes`), which seeds the
 * routes against one upstream. Here every user needs a running server that answers PATH_TEMPLATE,
 * and a credential: with large sizes prefer USER_TOKENS_FILE and AUTH=token, because otherwise
 * setup() logs every user in (one password hash each), and each VU holds a copy of the
 * credentials it returns.
 *
 * Environment:
 *   BASE_URL        required
 *   ROUTES          number of users/routes (default params.routes.sizes[0])
 *   AUTH            cookie | token (default cookie)
 *   VUS             concurrent clients (default params.routes.connections)
 *   DURATION        default params.routes.durationSec
 *   PATH_TEMPLATE   default params.routes.path
 *   EXPECT_STATUS   default 200
 *   START_SERVERS   1 (default): setup() starts users' servers that are not running
 *   credentials     PASSWORD, ADMIN_USER, ADMIN_PASSWORD, USER_TOKENS_FILE, TOKEN_TTL_SEC (bench/README.md)
 *
 * Example:
 *   k6 run -e BASE_URL=https://hub.example.org -e ROUTES=10000 -e AUTH=token \
 *     -e USER_TOKENS_FILE=/srv/bench/tokens.txt bench/k6/routes.ts
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
const ROUTES = envInt('ROUTES', params.routes.sizes[0])
if (ROUTES < 1) throw new Error('ROUTES must be at least 1')
const PATH_TEMPLATE = envStr('PATH_TEMPLATE', params.routes.path)
const VUS = envInt('VUS', params.routes.connections)
const DURATION = envDuration('DURATION', params.routes.durationSec)

export const options: Options = {
  ...batchOptions,
  // a redirect is an answer to count (a 302 to /hub/ is a request that failed), never one to follow
  maxRedirects: 0,
  scenarios: {
    routes: { executor: 'constant-vus', vus: VUS, duration: DURATION.k6, tags: { auth: AUTH, routes: String(ROUTES) } },
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: setupTimeout(ROUTES),
  teardownTimeout: setupTimeout(ROUTES),
  thresholds: loadThresholds({ checks: ['rate==1'] }),
}

export function setup(): Creds {
  if (!params.routes.sizes.includes(ROUTES))
    console.warn(`ROUTES=${ROUTES} is not one of params.routes.sizes (${params.routes.sizes.join(', ')})`)
  return prepareLoad(BASE, params, AUTH, ROUTES, PATH_TEMPLATE)
}

export default function (creds: Creds): void {
  // one counter over all VUs: consecutive requests go to consecutive users
  loadGet(BASE, params, creds, AUTH, PATH_TEMPLATE, exec.scenario.iterationInTest % ROUTES)
}

export function teardown(creds: Creds): void {
  releaseCredentials(BASE, params, creds)
}
