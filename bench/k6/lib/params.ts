// The scenario parameters shared with the local harness (bench/params.json). k6 cannot import JSON
// from a module, so every script reads the file itself in its init context:
//
//   const params = parseParams(open('../params.json'))
//
// (open() is relative to the script, bench/k6/). The shape below follows bench/params.json; keys
// under `k6` are read only by these scripts.

export interface BenchParams {
  userPrefix: string
  http: { users: number; path: string; connections: number; durationSec: number }
  routes: { sizes: number[]; path: string; connections: number; durationSec: number }
  websocket: { connections: number; path: string; messageBytes: number; durationSec: number }
  churn: {
    users: number
    changesPerSec: number
    durationSec: number
    path: string
    connections: number
    k6: { changesPerSec: number; poolUsers: number }
  }
  login: { users: number; password: string }
  spawn: { users: number; readyWithinSec: number; k6: { path: string } }
  api: { users: number; pageSize: number; connections: number; durationSec: number }
  soak: { requests: number; wsConnects: number; path: string; wsPath: string; users: number; connections: number }
}

export function parseParams(text: string): BenchParams {
  const p = JSON.parse(text) as BenchParams
  if (
    typeof p.userPrefix !== 'string' ||
    !p.http ||
    !p.routes ||
    !p.websocket ||
    !p.churn ||
    !p.login ||
    !p.spawn ||
    !p.api ||
    !p.soak
  ) {
    throw new Error('bench/params.json: missing scenario keys')
  }
  return p
}

/** The i-th benchmark user: bench-0, bench-1, … */
export function userName(p: BenchParams, i: number): string {
  return `${p.userPrefix}${i}`
}

/** A path template of params.json with {user} filled in. */
export function userPath(template: string, user: string): string {
  return template.split('{user}').join(encodeURIComponent(user))
}
