// The benchmark users' servers, seen through the proxy: is a route there (the request reached the
// user's server) or not (the proxy sent it to the hub), and getting every server started or
// stopped before a run.
import type { ObjectBatchRequest, Response } from 'k6/http'
import { fail, sleep } from 'k6'
import {
  adminHeaders,
  apiHeaders,
  authHeaders,
  freshJar,
  inBatches,
  ownHeaders,
  type AuthMode,
  type Creds,
} from './creds.ts'
import { userName, userPath, type BenchParams } from './params.ts'

/** The proxy had no route (or no server) and sent the request to the hub: 302 to /hub/… */
export function isHubRedirect(res: Response): boolean {
  if (res.status < 300 || res.status >= 400) return false
  const loc = res.headers.Location ?? res.headers.location ?? ''
  return /^(https?:\/\/[^/]+)?\/hub\//.test(loc)
}

/** The request reached the user's server: any answer that is not the proxy's or hub's refusal. */
export function served(res: Response): boolean {
  return res.status > 0 && res.status < 500 && res.status !== 401 && res.status !== 403 && !isHubRedirect(res)
}

/** GET through the proxy without following redirects (a redirect to /hub/ means "no route"). */
export function probeRequest(
  base: string,
  path: string,
  headers: Record<string, string>,
  tags: Record<string, string>,
): ObjectBatchRequest {
  return { method: 'GET', url: base + path, params: { redirects: 0, jar: freshJar(), headers, tags } }
}

export function serverUrl(base: string, user: string): string {
  return `${base}/hub/api/users/${encodeURIComponent(user)}/server`
}

/**
 * For setup(): starts the servers of users 0 … count-1 that are not running (with each user's own
 * credential) and waits until `pathTemplate` is served through the proxy for all of them.
 */
export function ensureRunning(
  base: string,
  p: BenchParams,
  c: Creds,
  mode: AuthMode,
  count: number,
  pathTemplate: string,
  timeoutSec: number,
): void {
  const name = (i: number) => userName(p, i)
  const tags = { name: 'setup probe' }
  let pending: number[] = []
  inBatches(
    count,
    (i) => probeRequest(base, userPath(pathTemplate, name(i)), authHeaders(mode, c, i), tags),
    (res, i) => {
      if (!served(res)) pending.push(i)
    },
  )
  if (!pending.length) return
  console.log(`starting ${pending.length} of ${count} servers`)
  const toStart = pending
  inBatches(
    toStart.length,
    (k) => ({
      method: 'POST',
      url: serverUrl(base, name(toStart[k])),
      body: '{}',
      params: {
        redirects: 0,
        jar: freshJar(),
        headers: { 'Content-Type': 'application/json', ...apiHeaders(c, toStart[k]) },
        tags: { name: 'setup start' },
      },
    }),
    (res, k) => {
      // 400: already running or being started (the route may just not be there yet)
      if (res.status !== 201 && res.status !== 202 && res.status !== 400)
        fail(`starting ${name(toStart[k])}'s server: HTTP ${res.status} ${String(res.body).slice(0, 200)}`)
    },
  )
  const deadline = Date.now() + timeoutSec * 1000
  while (pending.length) {
    if (Date.now() > deadline)
      fail(
        `${pending.length} servers (first: ${name(pending[0])}) not served through the proxy at ${pathTemplate} within ${timeoutSec} s`,
      )
    sleep(1)
    const still: number[] = []
    const batch = pending
    inBatches(
      batch.length,
      (k) => probeRequest(base, userPath(pathTemplate, name(batch[k])), authHeaders(mode, c, batch[k]), tags),
      (res, k) => {
        if (!served(res)) still.push(batch[k])
      },
    )
    pending = still
  }
}

/**
 * Stops the servers of the given users (with ADMIN_TOKEN when set, else each user's credential) and
 * waits until the proxy no longer routes `pathTemplate` for any of them. A server in the middle of
 * starting cannot be stopped yet (400): it is asked again on the next round.
 */
export function ensureStopped(
  base: string,
  p: BenchParams,
  c: Creds,
  users: number[],
  pathTemplate: string,
  timeoutSec: number,
): void {
  const name = (i: number) => userName(p, i)
  const admin = adminHeaders()
  const deadline = Date.now() + timeoutSec * 1000
  let pending = users
  for (;;) {
    const batch = pending
    inBatches(
      batch.length,
      (k) => ({
        method: 'DELETE',
        url: serverUrl(base, name(batch[k])),
        params: {
          redirects: 0,
          jar: freshJar(),
          headers: admin ?? apiHeaders(c, batch[k]),
          tags: { name: 'setup stop' },
        },
      }),
      (res, k) => {
        if (res.status !== 204 && res.status !== 202 && res.status !== 400)
          fail(`stopping ${name(batch[k])}'s server: HTTP ${res.status} ${String(res.body).slice(0, 200)}`)
      },
    )
    const still: number[] = []
    inBatches(
      batch.length,
      (k) =>
        probeRequest(base, userPath(pathTemplate, name(batch[k])), ownHeaders(c, batch[k]), { name: 'setup probe' }),
      (res, k) => {
        if (!isHubRedirect(res)) still.push(batch[k])
      },
    )
    pending = still
    if (!pending.length) return
    if (Date.now() > deadline)
      fail(
        `${pending.length} servers (first: ${name(pending[0])}) still routed at ${pathTemplate} ${timeoutSec} s after stopping`,
      )
    sleep(1)
  }
}

/** Fails setup() early, with the answer, when a single request is not what the run needs. */
export function expectServed(res: Response, what: string): void {
  if (!served(res)) {
    const loc = res.headers.Location ?? ''
    fail(`${what}: HTTP ${res.status}${loc ? ` → ${loc}` : ''}${res.error ? ` (${res.error})` : ''}`)
  }
}
