/*
 * churn — route changes while serving.
 *
 * Two k6 scenarios at once for DURATION:
 * - "load": the http load (VUS clients, GETs to params.churn.path of users bench-0 …
 *   bench-(USERS-1), cookie or token), whose figures are http_reqs{kind:load} and
 *   http_req_duration{kind:load}; compare them with an http.ts run of the same size without churn;
 * - "changes": CHANGES_PER_SEC route changes a second (constant arrival rate), each starting or
 *   stopping the server of one of POOL_USERS further users (bench-USERS …) through the REST API
 *   (POST / DELETE /hub/api/users/NAME/server, with ADMIN_TOKEN when given, else the user's own
 *   token). Each pool user is started, and the next time its turn comes, stopped.
 *
 * After the API call returns, the user's page is polled through the proxy, back to back, until it
 * answers accordingly: served by the server after a start, redirected to /hub/ after a stop. That
 * time is Trend route_propagation (tags change=start|stop). A start the hub answers with 202 (the
 * server is still starting) is first followed through GET /hub/api/users/NAME every 100 ms until
 * the API reports it ready; the clock starts then (tag api=202, coarser). route_change_api is the
 * API call's own duration; route_change_failures counts refused calls (for example a pool user
 * whose previous change is still going on: make POOL_USERS larger than CHANGES_PER_SEC times the
 * longest change) and changes not seen within PROPAGATION_TIMEOUT_SEC.
 *
 * The local scenario writes 1,000 changes/s straight into the proxy tables (params.churn.
 * changesPerSec); on a real deployment every change is a real server start or stop, so the rate
 * here defaults to params.churn.k6.changesPerSec.
 *
 * Mirrors the local scenario bench/scenarios/churn.ts (`npm run bench -- churn`).
 *
 * Environment:
 *   BASE_URL                 required
 *   ADMIN_TOKEN              optional: an admin's API token for the start/stop calls
 *   AUTH                     cookie | token for the load (default cookie)
 *   USERS                    load users (default params.churn.users)
 *   POOL_USERS               churned users (default params.churn.k6.poolUsers)
 *   CHANGES_PER_SEC          default params.churn.k6.changesPerSec (fractions allowed)
 *   VUS                      load clients (default params.churn.connections)
 *   DURATION                 default params.churn.durationSec
 *   PATH_TEMPLATE            default params.churn.path
 *   EXPECT_STATUS            default 200
 *   PROPAGATION_TIMEOUT_SEC  default 10
 *   READY_TIMEOUT_SEC        how long a 202 start may take to become ready (default 120)
 *   credentials              PASSWORD, ADMIN_USER, ADMIN_PASSWORD, USER_TOKENS_FILE, TOKEN_TTL_SEC (bench/README.md)
 *
 * Example:
 *   k6 run -e BASE_URL=https://hub.example.org -e ADMIN_TOKEN=$ADMIN_TOKEN -e CHANGES_PER_SEC=10 \
 *     -e DURATION=60s bench/k6/churn.ts
 */
import http from 'k6/http'
import type { Response } from 'k6/http'
import { sleep } from 'k6'
import exec from 'k6/execution'
import { Counter, Trend } from 'k6/metrics'
import type { Options, Scenario } from 'k6/options'
import { parseParams, userName, userPath } from './lib/params.ts'
import { baseUrl, envChoice, envDuration, envInt, envNum, envStr, nowMs, TREND_STATS } from './lib/env.ts'
import {
  adminHeaders,
  apiHeaders,
  authHeaders,
  batchOptions,
  loadUserTokens,
  releaseCredentials,
  type Creds,
} from './lib/creds.ts'
import { loadGet, loadThresholds, prepareLoad, setupTimeout } from './lib/load.ts'
import { ensureStopped, isHubRedirect, served, serverUrl } from './lib/servers.ts'

const params = parseParams(open('../params.json'))
loadUserTokens(params)

const BASE = baseUrl()
const AUTH = envChoice('AUTH', ['cookie', 'token'] as const)
const USERS = envInt('USERS', params.churn.users)
const POOL = envInt('POOL_USERS', params.churn.k6.poolUsers)
const RATE = envNum('CHANGES_PER_SEC', params.churn.k6.changesPerSec)
const VUS = envInt('VUS', params.churn.connections)
const DURATION = envDuration('DURATION', params.churn.durationSec)
const PATH_TEMPLATE = envStr('PATH_TEMPLATE', params.churn.path)
const PROPAGATION_TIMEOUT_MS = envNum('PROPAGATION_TIMEOUT_SEC', 10) * 1000
const READY_TIMEOUT_MS = envNum('READY_TIMEOUT_SEC', 120) * 1000
if (POOL < 1 || !(RATE > 0)) throw new Error('POOL_USERS and CHANGES_PER_SEC must be above 0')

const propagation = new Trend('route_propagation', true)
const changeApi = new Trend('route_change_api', true)
const changes = new Counter('route_changes')
const failures = new Counter('route_change_failures')

/** k6 takes an integer rate per time unit: whole changes per second, else per minute. */
const arrival = Number.isInteger(RATE)
  ? { rate: RATE, timeUnit: '1s' }
  : { rate: Math.max(1, Math.round(RATE * 60)), timeUnit: '1m' }
const changeSec = (READY_TIMEOUT_MS + PROPAGATION_TIMEOUT_MS) / 1000

const changeScenario: Scenario = {
  executor: 'constant-arrival-rate',
  exec: 'change',
  duration: DURATION.k6,
  ...arrival,
  preAllocatedVUs: Math.ceil(RATE * 5) + 2,
  maxVUs: Math.ceil(RATE * changeSec) + 10,
  gracefulStop: `${Math.ceil(changeSec)}s`,
}

export const options: Options = {
  ...batchOptions,
  // a redirect is an answer to count (a 302 to /hub/ is a request that failed), never one to follow
  maxRedirects: 0,
  scenarios: {
    load: { executor: 'constant-vus', exec: 'load', vus: VUS, duration: DURATION.k6, tags: { auth: AUTH } },
    changes: changeScenario,
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: setupTimeout(USERS + POOL),
  teardownTimeout: setupTimeout(USERS + POOL),
  thresholds: loadThresholds({
    route_propagation: ['max>=0'],
    'route_propagation{change:start}': ['max>=0'],
    'route_propagation{change:stop}': ['max>=0'],
    route_change_api: ['max>=0'],
    route_changes: ['count>0'],
    route_change_failures: ['count==0'],
  }),
}

const poolUsers = () => Array.from({ length: POOL }, (_, k) => USERS + k)

export function setup(): Creds {
  // tokens for everyone: the polls after a change authenticate with the pool user's token
  const creds = prepareLoad(BASE, params, AUTH, USERS, PATH_TEMPLATE, { credUsers: USERS + POOL, token: true })
  ensureStopped(BASE, params, creds, poolUsers(), PATH_TEMPLATE, envInt('STOP_TIMEOUT_SEC', 120))
  return creds
}

export function load(creds: Creds): void {
  loadGet(BASE, params, creds, AUTH, PATH_TEMPLATE, exec.scenario.iterationInTest % USERS)
}

/** Waits for GET /hub/api/users/NAME to report the default server ready; false on timeout or error. */
function waitReady(user: string, headers: Record<string, string>): boolean {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    const r = http.get(`${BASE}/hub/api/users/${encodeURIComponent(user)}`, {
      headers,
      tags: { kind: 'api', name: 'GET /hub/api/users/NAME' },
    })
    const model = r.status === 200 ? (r.json() as { servers?: { [name: string]: { ready?: boolean } } } | null) : null
    if (!model) return false
    const s = model.servers ? model.servers[''] : undefined
    if (s?.ready) return true
    sleep(0.1)
  }
  return false
}

export function change(creds: Creds): void {
  const n = exec.scenario.iterationInTest
  const i = USERS + (n % POOL)
  const start = Math.floor(n / POOL) % 2 === 0
  const kind = start ? 'start' : 'stop'
  const user = userName(params, i)
  const headers = adminHeaders() ?? apiHeaders(creds, i)
  const res: Response = start
    ? http.post(serverUrl(BASE, user), '{}', {
        headers: { ...headers, 'Content-Type': 'application/json' },
        redirects: 0,
        tags: { kind: 'api', change: kind, name: 'POST /hub/api/users/NAME/server' },
      })
    : http.del(serverUrl(BASE, user), null, {
        headers,
        redirects: 0,
        tags: { kind: 'api', change: kind, name: 'DELETE /hub/api/users/NAME/server' },
      })
  changeApi.add(res.timings.duration, { change: kind, status: String(res.status) })
  const ok = start ? res.status === 201 || res.status === 202 : res.status === 204 || res.status === 202
  if (!ok) {
    failures.add(1, { change: kind, reason: `HTTP ${res.status}` })
    return
  }
  if (res.status === 202 && start && !waitReady(user, headers)) {
    failures.add(1, { change: kind, reason: 'not ready' })
    return
  }
  const t0 = nowMs()
  const url = BASE + userPath(PATH_TEMPLATE, user)
  const pollParams = {
    headers: authHeaders('token', creds, i),
    redirects: 0,
    tags: { kind: 'poll', change: kind, name: PATH_TEMPLATE },
  }
  for (;;) {
    const r = http.get(url, pollParams)
    const elapsed = nowMs() - t0
    if (start ? served(r) : isHubRedirect(r)) {
      propagation.add(elapsed, { change: kind, api: String(res.status) })
      changes.add(1, { change: kind })
      return
    }
    if (elapsed > PROPAGATION_TIMEOUT_MS) {
      failures.add(1, { change: kind, reason: 'not seen by the proxy' })
      return
    }
  }
}

export function teardown(creds: Creds): void {
  ensureStopped(BASE, params, creds, poolUsers(), PATH_TEMPLATE, envInt('STOP_TIMEOUT_SEC', 120))
  releaseCredentials(BASE, params, creds)
}
