/*
 * websocket — many WebSocket connections through the proxy, small messages back to back.
 *
 * Measures the proxy's WebSocket path: CONNECTIONS connections (one per VU) to /user/NAME/ws
 * (params.websocket.path) of users bench-0 … bench-(USERS-1), each sending a MESSAGE_BYTES message
 * and waiting for its echo before sending the next (the pattern of a kernel channel), for
 * DURATION. Trend ws_rtt is the round trip of each message (ms), Counter ws_messages their
 * number (count / DURATION = messages/s); ws_errors counts refused upgrades, wrong echoes and
 * connections that closed early (a closed connection is opened again). The round trip is timed
 * with the best clock k6 gives scripts: performance.now() where it exists, otherwise Date.now(),
 * which has a resolution of 1 ms.
 *
 * The users' servers must echo every WebSocket message at that path, as the benchmark's own
 * upstream does (bench/upstream: nginx with ws_echo.lua); a stock Jupyter server does not.
 *
 * Mirrors the local scenario bench/scenarios/websocket.ts (`npm run bench -- websocket`).
 *
 * Environment:
 *   BASE_URL        required (http → ws, https → wss)
 *   AUTH            cookie | token (default cookie)
 *   CONNECTIONS     concurrent connections (default params.websocket.connections)
 *   USERS           users the connections are spread over (default: the smaller of CONNECTIONS
 *                   and params.http.users, as the local scenario)
 *   MESSAGE_BYTES   default params.websocket.messageBytes
 *   DURATION        default params.websocket.durationSec
 *   PATH_TEMPLATE   default params.websocket.path
 *   START_SERVERS   1 (default): setup() starts users' servers that are not running
 *   credentials     PASSWORD, ADMIN_USER, ADMIN_PASSWORD, USER_TOKENS_FILE, TOKEN_TTL_SEC (bench/README.md)
 *
 * Example:
 *   k6 run -e BASE_URL=https://hub.example.org -e CONNECTIONS=1000 -e DURATION=60s bench/k6/websocket.ts
 */
import ws from 'k6/ws'
import { check, sleep } from 'k6'
import exec from 'k6/execution'
import { Counter, Trend } from 'k6/metrics'
import type { Options } from 'k6/options'
import { parseParams, userName, userPath } from './lib/params.ts'
import { baseUrl, envChoice, envDuration, envInt, envStr, nowMs, TREND_STATS, wsUrl } from './lib/env.ts'
import { authHeaders, batchOptions, loadUserTokens, releaseCredentials, type Creds } from './lib/creds.ts'
import { prepareLoad, setupTimeout } from './lib/load.ts'

const params = parseParams(open('../params.json'))
loadUserTokens(params)

const BASE = baseUrl()
const WS_BASE = wsUrl(BASE)
const AUTH = envChoice('AUTH', ['cookie', 'token'] as const)
const CONNECTIONS = envInt('CONNECTIONS', params.websocket.connections)
const USERS = envInt('USERS', Math.min(CONNECTIONS, params.http.users))
const MESSAGE = 'x'.repeat(envInt('MESSAGE_BYTES', params.websocket.messageBytes))
const PATH_TEMPLATE = envStr('PATH_TEMPLATE', params.websocket.path)
const DURATION = envDuration('DURATION', params.websocket.durationSec)

const wsRtt = new Trend('ws_rtt', true)
const wsMessages = new Counter('ws_messages')
const wsErrors = new Counter('ws_errors')

export const options: Options = {
  ...batchOptions,
  // a redirect is an answer to count (a 302 to /hub/ is a request that failed), never one to follow
  maxRedirects: 0,
  scenarios: {
    websocket: {
      executor: 'constant-vus',
      vus: CONNECTIONS,
      duration: DURATION.k6,
      gracefulStop: '10s',
      tags: { auth: AUTH },
    },
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: setupTimeout(USERS),
  teardownTimeout: setupTimeout(USERS),
  thresholds: {
    ws_rtt: ['max>=0'],
    ws_messages: ['count>0'],
    ws_errors: ['count==0'],
  },
}

export function setup(): Creds {
  return prepareLoad(BASE, params, AUTH, USERS, PATH_TEMPLATE)
}

export default function (creds: Creds): void {
  // every connection runs until the scenario's end, measured from its start
  const deadline = exec.scenario.startTime + DURATION.sec * 1000
  const left = deadline - Date.now()
  if (left < 100) {
    sleep(Math.max(left, 0) / 1000 + 0.1)
    return
  }
  const i = (exec.vu.idInTest - 1) % USERS
  let sentAt = 0
  let done = false // closed by us, or already counted as an error
  const fault = (reason: string) => {
    if (!done) wsErrors.add(1, { reason })
    done = true
  }
  let res: ReturnType<typeof ws.connect> | undefined
  try {
    res = ws.connect(
      WS_BASE + userPath(PATH_TEMPLATE, userName(params, i)),
      { headers: authHeaders(AUTH, creds, i), tags: { name: PATH_TEMPLATE } },
      (socket) => {
        const send = () => {
          sentAt = nowMs()
          socket.send(MESSAGE)
        }
        const close = () => {
          done = true
          socket.close()
        }
        socket.on('open', send)
        socket.on('message', (data) => {
          const rtt = nowMs() - sentAt
          if (data.length !== MESSAGE.length) {
            fault('echo differs')
            return socket.close()
          }
          wsRtt.add(rtt)
          wsMessages.add(1)
          if (Date.now() < deadline) send()
          else close()
        })
        socket.on('error', (e) => {
          if (!done) console.warn(`${userName(params, i)}: WebSocket error: ${e.error()}`)
          fault('error')
        })
        socket.on('close', () => fault('closed early'))
        // an echo that never comes must not hold the VU past the end
        socket.setTimeout(close, left + 5000)
      },
    )
  } catch (err) {
    console.warn(`${userName(params, i)}: WebSocket connect failed: ${String(err)}`)
  }
  const upgraded = check(res, { 'upgraded (101)': (r) => !!r && r.status === 101 })
  if (!upgraded) {
    if (!done) wsErrors.add(1, { reason: 'upgrade refused' })
    sleep(1)
  }
}

export function teardown(creds: Creds): void {
  releaseCredentials(BASE, params, creds)
}
