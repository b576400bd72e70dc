/*
 * soak — a long run of proxied requests and WebSocket connects, for a memory comparison.
 *
 * Two k6 scenarios, running side by side until each has done its count:
 * - "requests": REQUESTS GETs (params.soak.requests) by VUS clients, to params.soak.path of users
 *   bench-0 … bench-(USERS-1) in turn with each user's cookie or token, and one request in
 *   USERS+1 a GET /hub/api/user with a token (the local scenario's mix);
 * - "websockets": WS_CONNECTS cycles (params.soak.wsConnects) by WS_VUS clients, each opening a
 *   WebSocket to params.soak.wsPath, sending one message, waiting for its echo and closing.
 * Counters soak_ws_cycles and soak_ws_failures; the requests' figures are http_reqs{kind:load}.
 *
 * What the soak is for, memory growth of the proxies and hubs, is measured by the operator outside
 * k6: note each proxy's and hub's memory (for example `ps -o pid,rss,pss,cmd` for the nginx
 * master and workers and the hub processes, or the container's memory metric) after a short
 * warm-up run of this script, run it in full, and note them again; the local scenario's goal is
 * under 5% growth. The users' servers must echo WebSocket messages at wsPath (see websocket.ts).
 *
 * Mirrors the local scenario bench/scenarios/soak.ts (`npm run bench -- soak`), which runs the
 * WebSocket cycles after the requests; here they overlap.
 *
 * Environment:
 *   BASE_URL        required
 *   AUTH            cookie | token (default cookie)
 *   USERS           default params.soak.users
 *   REQUESTS        default params.soak.requests
 *   VUS             default params.soak.connections
 *   WS_CONNECTS     default params.soak.wsConnects
 *   WS_VUS          concurrent WebSocket cycles (default 50, as the local scenario)
 *   PATH_TEMPLATE   default params.soak.path;  WS_PATH_TEMPLATE default params.soak.wsPath
 *   EXPECT_STATUS   default 200
 *   MAX_DURATION    give up after this long (default 2h)
 *   START_SERVERS   1 (default): setup() starts users' servers that are not running
 *   credentials     PASSWORD, ADMIN_USER, ADMIN_PASSWORD, USER_TOKENS_FILE, TOKEN_TTL_SEC (bench/README.md)
 *
 * Example (warm-up, then the soak):
 *   k6 run -e BASE_URL=https://hub.example.org -e REQUESTS=20000 -e WS_CONNECTS=500 bench/k6/soak.ts
 *   k6 run -e BASE_URL=https://hub.example.org bench/k6/soak.ts
 */
import http from 'k6/http'
import ws from 'k6/ws'
import { check } from 'k6'
import exec from 'k6/execution'
import { Counter } from 'k6/metrics'
import type { Options } from 'k6/options'
import { parseParams, userName, userPath } from './lib/params.ts'
import { baseUrl, envChoice, envInt, envStr, TREND_STATS, wsUrl } from './lib/env.ts'
import { authHeaders, batchOptions, loadUserTokens, releaseCredentials, tokenOf, type Creds } from './lib/creds.ts'
import { loadGet, loadThresholds, prepareLoad, setupTimeout } from './lib/load.ts'

const params = parseParams(open('../params.json'))
loadUserTokens(params)

const BASE = baseUrl()
const WS_BASE = wsUrl(BASE)
const AUTH = envChoice('AUTH', ['cookie', 'token'] as const)
const USERS = envInt('USERS', params.soak.users)
const REQUESTS = envInt('REQUESTS', params.soak.requests)
const VUS = envInt('VUS', params.soak.connections)
const WS_CONNECTS = envInt('WS_CONNECTS', params.soak.wsConnects)
const WS_VUS = envInt('WS_VUS', 50)
const PATH_TEMPLATE = envStr('PATH_TEMPLATE', params.soak.path)
const WS_PATH_TEMPLATE = envStr('WS_PATH_TEMPLATE', params.soak.wsPath)
const MAX_DURATION = envStr('MAX_DURATION', '2h')
if (REQUESTS + WS_CONNECTS === 0) throw new Error('REQUESTS and WS_CONNECTS are both 0: nothing to do')

const wsCycles = new Counter('soak_ws_cycles')
const wsFailures = new Counter('soak_ws_failures')

export const options: Options = {
  ...batchOptions,
  // a redirect is an answer to count (a 302 to /hub/ is a request that failed), never one to follow
  maxRedirects: 0,
  scenarios: {
    // a count of 0 leaves its scenario out
    ...(REQUESTS > 0
      ? {
          requests: {
            executor: 'shared-iterations',
            exec: 'requests',
            vus: Math.min(VUS, REQUESTS),
            iterations: REQUESTS,
            maxDuration: MAX_DURATION,
            tags: { auth: AUTH },
          },
        }
      : {}),
    ...(WS_CONNECTS > 0
      ? {
          websockets: {
            executor: 'shared-iterations',
            exec: 'websockets',
            vus: Math.min(WS_VUS, WS_CONNECTS),
            iterations: WS_CONNECTS,
            maxDuration: MAX_DURATION,
            tags: { auth: AUTH },
          },
        }
      : {}),
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: setupTimeout(USERS),
  teardownTimeout: setupTimeout(USERS),
  thresholds: loadThresholds({
    'http_req_duration{kind:hub}': ['max>=0'],
    soak_ws_cycles: ['count>=0'],
    soak_ws_failures: ['count==0'],
  }),
}

export function setup(): Creds {
  // a token for the /hub/api/user requests of the mix, whatever AUTH is
  return prepareLoad(BASE, params, AUTH, USERS, PATH_TEMPLATE, { token: true })
}

export function requests(creds: Creds): void {
  const slot = exec.scenario.iterationInTest % (USERS + 1)
  if (slot < USERS) {
    loadGet(BASE, params, creds, AUTH, PATH_TEMPLATE, slot)
    return
  }
  const res = http.get(`${BASE}/hub/api/user`, {
    headers: { Authorization: `token ${tokenOf(creds, 0)}` },
    tags: { kind: 'hub', name: 'GET /hub/api/user' },
  })
  check(res, { 'hub: 200': (r) => r.status === 200 })
}

export function websockets(creds: Creds): void {
  const i = exec.scenario.iterationInTest % USERS
  let echoed = false
  try {
    const res = ws.connect(
      WS_BASE + userPath(WS_PATH_TEMPLATE, userName(params, i)),
      { headers: authHeaders(AUTH, creds, i), tags: { name: WS_PATH_TEMPLATE } },
      (socket) => {
        socket.on('open', () => socket.send('hello'))
        socket.on('message', () => {
          echoed = true
          socket.close(1000)
        })
        socket.setTimeout(() => socket.close(), 10000)
      },
    )
    if (res?.status !== 101) echoed = false
  } catch (err) {
    console.warn(`${userName(params, i)}: WebSocket connect failed: ${String(err)}`)
    echoed = false
  }
  if (echoed) wsCycles.add(1)
  else wsFailures.add(1)
}

export function teardown(creds: Creds): void {
  releaseCredentials(BASE, params, creds)
}
