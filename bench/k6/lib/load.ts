// The proxied GET load shared by http, routes, churn and soak: each request goes to
// /user/NAME/… (a params.json path template) of the next benchmark user in turn, with that user's
// session cookie or API token, and must get EXPECT_STATUS (default 200) from the user's server.
import http from 'k6/http'
import type { Response } from 'k6/http'
import { check } from 'k6'
import { envBool, envInt, envStr } from './env.ts'
import { authHeaders, prepareCredentials, type AuthMode, type Creds } from './creds.ts'
import { ensureRunning } from './servers.ts'
import { userName, userPath, type BenchParams } from './params.ts'

/** The status the users' servers answer the load's GETs with. */
export const EXPECT_STATUS = envInt('EXPECT_STATUS', 200)
const expected = http.expectedStatuses(EXPECT_STATUS)

/** setup() and teardown() may take long with many users (one login each): 10 min, or more. */
export function setupTimeout(users: number): string {
  return envStr('SETUP_TIMEOUT', `${Math.max(600, Math.ceil(users / 10))}s`)
}

/**
 * For setup(): credentials for users 0 … credUsers-1 (at least `users`), and, unless
 * START_SERVERS=0, the servers of users 0 … users-1 started and serving `pathTemplate`.
 */
export function prepareLoad(
  base: string,
  p: BenchParams,
  mode: AuthMode,
  users: number,
  pathTemplate: string,
  opts: { credUsers?: number; token?: boolean } = {},
): Creds {
  const creds = prepareCredentials(base, p, Math.max(users, opts.credUsers ?? 0), {
    cookie: mode === 'cookie',
    token: mode === 'token' || !!opts.token,
  })
  if (envBool('START_SERVERS', true))
    ensureRunning(base, p, creds, mode, users, pathTemplate, envInt('START_TIMEOUT_SEC', 300))
  return creds
}

/** One proxied GET as user i; tagged kind=load, so the summary shows the load apart from the rest. */
export function loadGet(
  base: string,
  p: BenchParams,
  creds: Creds,
  mode: AuthMode,
  pathTemplate: string,
  i: number,
  tags: Record<string, string> = {},
): Response {
  const res = http.get(base + userPath(pathTemplate, userName(p, i)), {
    headers: authHeaders(mode, creds, i),
    redirects: 0,
    responseCallback: expected,
    tags: { name: pathTemplate, kind: 'load', ...tags },
  })
  check(res, { [`status ${EXPECT_STATUS}`]: (r) => r.status === EXPECT_STATUS })
  return res
}

/** Thresholds that make the summary show the load's own request figures, and fail the run on any failed load request (a status other than EXPECT_STATUS, redirects included). */
export function loadThresholds(extra: Record<string, string[]> = {}): Record<string, string[]> {
  return {
    'http_req_duration{kind:load}': ['max>=0'],
    'http_reqs{kind:load}': ['count>=0'],
    'http_req_failed{kind:load}': ['rate==0'],
    ...extra,
  }
}
