/*
 * api — the hub's REST API under read load.
 *
 * VUS closed-loop clients for DURATION, alternating two requests:
 * - GET /hub/api/users?offset=K&limit=PAGE_SIZE with ADMIN_TOKEN, K random over the hub's user
 *   count (tag type=list);
 * - GET /hub/api/user with the token of one of USERS benchmark users in turn (tag type=user).
 * The summary shows, per type, http_reqs{type:…} (count / DURATION = requests/s; k6's own
 * per-second figure is over the whole run, setup() included) and http_req_duration{type:…}
 * (med, p99, p99.9).
 *
 * The local scenario lists a hub holding params.api.users users. FILL_USERS=N first creates
 * users bench-fill-0 … bench-fill-(N-1) through the API (no password, never logged in; existing
 * ones are skipped) so that a test deployment holds as many; they are left in place afterwards.
 *
 * Mirrors the local scenario bench/scenarios/api.ts (`npm run bench -- api`).
 *
 * Environment:
 *   BASE_URL       required
 *   ADMIN_TOKEN    required: an admin's API token (list:users)
 *   USERS          users whose tokens call /hub/api/user (default 10)
 *   PAGE_SIZE      default params.api.pageSize
 *   VUS            default params.api.connections
 *   DURATION       default params.api.durationSec
 *   FILL_USERS     default 0 (see above; params.api.users to match the local scenario)
 *   credentials    PASSWORD, ADMIN_USER, ADMIN_PASSWORD, USER_TOKENS_FILE, TOKEN_TTL_SEC (bench/README.md)
 *
 * Example:
 *   k6 run -e BASE_URL=https://hub.example.org -e ADMIN_TOKEN=$ADMIN_TOKEN -e DURATION=60s bench/k6/api.ts
 */
import http from 'k6/http'
import { check, fail } from 'k6'
import exec from 'k6/execution'
import type { Options } from 'k6/options'
import { parseParams } from './lib/params.ts'
import { baseUrl, envDuration, envInt, TREND_STATS } from './lib/env.ts'
import {
  adminHeaders,
  batchOptions,
  freshJar,
  inBatches,
  loadUserTokens,
  prepareCredentials,
  releaseCredentials,
  tokenOf,
  type Creds,
} from './lib/creds.ts'
import { setupTimeout } from './lib/load.ts'

const params = parseParams(open('../params.json'))
loadUserTokens(params)

const BASE = baseUrl()
const USERS = envInt('USERS', 10)
const PAGE_SIZE = envInt('PAGE_SIZE', params.api.pageSize)
const VUS = envInt('VUS', params.api.connections)
const DURATION = envDuration('DURATION', params.api.durationSec)
const FILL_USERS = envInt('FILL_USERS', 0)
const FILL_CHUNK = 1000

interface Data {
  creds: Creds
  /** Users the hub holds (from the pagination envelope). */
  total: number
}

export const options: Options = {
  ...batchOptions,
  // a redirect is an answer to count (a 302 to /hub/ is a request that failed), never one to follow
  maxRedirects: 0,
  scenarios: {
    api: { executor: 'constant-vus', vus: VUS, duration: DURATION.k6 },
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: setupTimeout(Math.max(USERS, FILL_USERS / 100)),
  thresholds: {
    'http_req_duration{type:list}': ['max>=0'],
    'http_reqs{type:list}': ['count>=0'],
    'http_req_failed{type:list}': ['rate==0'],
    'http_req_duration{type:user}': ['max>=0'],
    'http_reqs{type:user}': ['count>=0'],
    'http_req_failed{type:user}': ['rate==0'],
  },
}

function admin(): Record<string, string> {
  const h = adminHeaders()
  if (!h) throw new Error('ADMIN_TOKEN is required (an admin API token: list:users)')
  return h
}

export function setup(): Data {
  const headers = admin()
  if (FILL_USERS > 0) {
    const chunks = Math.ceil(FILL_USERS / FILL_CHUNK)
    inBatches(
      chunks,
      (c) => {
        const usernames: string[] = []
        for (let i = c * FILL_CHUNK; i < Math.min(FILL_USERS, (c + 1) * FILL_CHUNK); i++)
          usernames.push(`${params.userPrefix}fill-${i}`)
        return {
          method: 'POST',
          url: `${BASE}/hub/api/users`,
          body: JSON.stringify({ usernames }),
          params: {
            jar: freshJar(),
            headers: { ...headers, 'Content-Type': 'application/json' },
            tags: { name: 'POST /hub/api/users' },
          },
        }
      },
      (res) => {
        if (res.status !== 201 && res.status !== 409)
          fail(`creating users: HTTP ${res.status} ${String(res.body).slice(0, 200)}`)
      },
    )
  }
  const res = http.get(`${BASE}/hub/api/users?limit=1`, {
    headers: { ...headers, Accept: 'application/jupyterhub-pagination+json' },
    tags: { name: 'GET /hub/api/users (setup)' },
  })
  const body = res.status === 200 ? (res.json() as { _pagination?: { total?: number } } | null) : null
  if (!body?._pagination || typeof body._pagination.total !== 'number')
    fail(`GET /hub/api/users with ADMIN_TOKEN: HTTP ${res.status} ${String(res.body).slice(0, 200)}`)
  const total = body._pagination.total
  console.log(`the hub holds ${total} users`)
  return { creds: prepareCredentials(BASE, params, USERS, { token: true }), total }
}

const ADMIN = adminHeaders() ?? {}

export default function (data: Data): void {
  const n = exec.scenario.iterationInTest
  if (n % 2 === 0) {
    const offset = Math.floor(Math.random() * data.total)
    const res = http.get(`${BASE}/hub/api/users?offset=${offset}&limit=${PAGE_SIZE}`, {
      headers: ADMIN,
      tags: { type: 'list', name: 'GET /hub/api/users' },
    })
    check(res, { 'list: 200': (r) => r.status === 200 }, { type: 'list' })
  } else {
    const i = Math.floor(n / 2) % USERS
    const res = http.get(`${BASE}/hub/api/user`, {
      headers: { Authorization: `token ${tokenOf(data.creds, i)}` },
      tags: { type: 'user', name: 'GET /hub/api/user' },
    })
    check(res, { 'user: 200': (r) => r.status === 200 }, { type: 'user' })
  }
}

export function teardown(data: Data): void {
  releaseCredentials(BASE, params, data.creds)
}
