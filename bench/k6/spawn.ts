/*
 * spawn — many servers started at the same moment, then stopped.
 *
 * Two phases, as two k6 scenarios one after the other, one VU per user:
 * - "start": USERS users (bench-0 …) each start their server at once (POST
 *   /hub/api/users/NAME/server), then poll their page through the proxy (waits from 5 ms,
 *   doubling up to POLL_SEC, as the local scenario) until the server answers it (not a redirect
 *   to /hub/). Trend spawn_ready is each user's time from the request to being served; Trend
 *   spawn_all_ready is the time from the phase's start, so its max is the time until all were
 *   ready (the local scenario's goal: params.spawn.readyWithinSec).
 * - "stop", READY_TIMEOUT_SEC + 30 s later: every user stops their server at once (DELETE), then
 *   polls until the proxy no longer routes it. Trends spawn_stopped and spawn_all_stopped.
 *
 * Counter spawn_failures counts every refused call (429 included, tag status), server not ready
 * within READY_TIMEOUT_SEC, or not gone within STOP_TIMEOUT_SEC; polls answered 429 or 5xx are
 * counted once per user (phase=poll). spawn_api is the duration of the API calls themselves.
 * Each user calls with their own token, as in the local scenario. setup() first stops any of the
 * users' servers that are running (with ADMIN_TOKEN when given, else the users' tokens).
 *
 * Mirrors the local scenario bench/scenarios/spawn.ts (`npm run bench -- spawn`).
 *
 * Environment:
 *   BASE_URL             required
 *   USERS                users spawning at once (default params.spawn.users)
 *   ADMIN_TOKEN          optional, for setup()'s and teardown()'s stops only
 *   PATH_TEMPLATE        the page polled (default params.spawn.k6.path, the server's root)
 *   POLL_SEC             longest wait between two polls of one user (default 0.2)
 *   READY_TIMEOUT_SEC    default 4 × params.spawn.readyWithinSec
 *   STOP_TIMEOUT_SEC     default 120
 *   credentials          PASSWORD, ADMIN_USER, ADMIN_PASSWORD, USER_TOKENS_FILE, TOKEN_TTL_SEC (bench/README.md)
 *
 * Example:
 *   k6 run -e BASE_URL=https://hub.example.org -e USERS=200 -e READY_TIMEOUT_SEC=60 bench/k6/spawn.ts
 */
import http from 'k6/http'
import type { Response } from 'k6/http'
import { sleep } from 'k6'
import exec from 'k6/execution'
import { Counter, Trend } from 'k6/metrics'
import type { Options } from 'k6/options'
import { parseParams, userName, userPath } from './lib/params.ts'
import { baseUrl, envInt, envNum, envStr, TREND_STATS } from './lib/env.ts'
import {
  apiHeaders,
  authHeaders,
  batchOptions,
  loadUserTokens,
  prepareCredentials,
  releaseCredentials,
  type Creds,
} from './lib/creds.ts'
import { setupTimeout } from './lib/load.ts'
import { ensureStopped, isHubRedirect, served, serverUrl } from './lib/servers.ts'

const params = parseParams(open('../params.json'))
loadUserTokens(params)

const BASE = baseUrl()
const USERS = envInt('USERS', params.spawn.users)
const PATH_TEMPLATE = envStr('PATH_TEMPLATE', params.spawn.k6.path)
const POLL_SEC = envNum('POLL_SEC', 0.2)
const READY_TIMEOUT_SEC = envNum('READY_TIMEOUT_SEC', 4 * params.spawn.readyWithinSec)
const STOP_TIMEOUT_SEC = envNum('STOP_TIMEOUT_SEC', 120)
const START_PHASE_SEC = Math.ceil(READY_TIMEOUT_SEC) + 30

const spawnReady = new Trend('spawn_ready', true)
const spawnAllReady = new Trend('spawn_all_ready', true)
const spawnStopped = new Trend('spawn_stopped', true)
const spawnAllStopped = new Trend('spawn_all_stopped', true)
const spawnApi = new Trend('spawn_api', true)
const failures = new Counter('spawn_failures')

export const options: Options = {
  ...batchOptions,
  // a redirect is an answer to count (a 302 to /hub/ is a request that failed), never one to follow
  maxRedirects: 0,
  scenarios: {
    start: {
      executor: 'per-vu-iterations',
      exec: 'start',
      vus: USERS,
      iterations: 1,
      maxDuration: `${START_PHASE_SEC}s`,
      gracefulStop: '0s',
    },
    stop: {
      executor: 'per-vu-iterations',
      exec: 'stop',
      vus: USERS,
      iterations: 1,
      startTime: `${START_PHASE_SEC + 1}s`,
      maxDuration: `${Math.ceil(STOP_TIMEOUT_SEC) + 30}s`,
    },
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: setupTimeout(USERS),
  teardownTimeout: setupTimeout(USERS),
  thresholds: {
    spawn_ready: ['max>=0'],
    spawn_all_ready: ['max>=0'],
    spawn_stopped: ['max>=0'],
    spawn_all_stopped: ['max>=0'],
    'spawn_api{phase:start}': ['max>=0'],
    'spawn_api{phase:stop}': ['max>=0'],
    spawn_failures: ['count==0'],
  },
}

const everyone = () => Array.from({ length: USERS }, (_, i) => i)

export function setup(): Creds {
  const creds = prepareCredentials(BASE, params, USERS, { token: true })
  ensureStopped(BASE, params, creds, everyone(), PATH_TEMPLATE, STOP_TIMEOUT_SEC)
  return creds
}

function call(method: 'POST' | 'DELETE', creds: Creds, i: number, phase: string): Response {
  const auth = apiHeaders(creds, i)
  const headers = method === 'POST' ? { ...auth, 'Content-Type': 'application/json' } : auth
  const res = http.request(method, serverUrl(BASE, userName(params, i)), method === 'POST' ? '{}' : null, {
    headers,
    redirects: 0,
    tags: { phase, name: `${method} /hub/api/users/NAME/server` },
  })
  spawnApi.add(res.timings.duration, { phase, status: String(res.status) })
  return res
}

/** Polls the user's page until `done`; false after timeoutSec. 429 and 5xx answers count once as a failure. */
function pollUntil(
  creds: Creds,
  i: number,
  phase: string,
  done: (r: Response) => boolean,
  timeoutSec: number,
): boolean {
  const url = BASE + userPath(PATH_TEMPLATE, userName(params, i))
  const p = {
    headers: authHeaders('token', creds, i),
    redirects: 0,
    tags: { phase, kind: 'poll', name: PATH_TEMPLATE },
  }
  const deadline = Date.now() + timeoutSec * 1000
  let counted = false
  let wait = Math.min(0.005, POLL_SEC)
  for (;;) {
    const r = http.get(url, p)
    if (done(r)) return true
    if (!counted && (r.status === 429 || r.status >= 500 || r.status === 0)) {
      failures.add(1, { phase: 'poll', status: String(r.status) })
      counted = true
    }
    if (Date.now() > deadline) return false
    sleep(wait)
    wait = Math.min(wait * 2, POLL_SEC)
  }
}

export function start(creds: Creds): void {
  const i = exec.scenario.iterationInTest
  const t0 = Date.now()
  const res = call('POST', creds, i, 'start')
  if (res.status !== 201 && res.status !== 202) {
    failures.add(1, { phase: 'start', status: String(res.status) })
    return
  }
  if (!pollUntil(creds, i, 'start', served, READY_TIMEOUT_SEC)) {
    failures.add(1, { phase: 'start', status: 'not ready' })
    return
  }
  const now = Date.now()
  spawnReady.add(now - t0)
  spawnAllReady.add(now - exec.scenario.startTime)
}

export function stop(creds: Creds): void {
  const i = exec.scenario.iterationInTest
  const t0 = Date.now()
  const res = call('DELETE', creds, i, 'stop')
  if (res.status !== 204 && res.status !== 202) {
    failures.add(1, { phase: 'stop', status: String(res.status) })
    return
  }
  if (!pollUntil(creds, i, 'stop', isHubRedirect, STOP_TIMEOUT_SEC)) {
    failures.add(1, { phase: 'stop', status: 'still routed' })
    return
  }
  const now = Date.now()
  spawnStopped.add(now - t0)
  spawnAllStopped.add(now - exec.scenario.startTime)
}

export function teardown(creds: Creds): void {
  ensureStopped(BASE, params, creds, everyone(), PATH_TEMPLATE, STOP_TIMEOUT_SEC)
  releaseCredentials(BASE, params, creds)
}
