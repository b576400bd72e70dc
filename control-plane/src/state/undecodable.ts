// Stored values that cannot be decoded (a field written by hand or by a buggy release: bad JSON, an
// expiry that is no time) are reported once, as one log line naming the key and field (never the
// value, which may be a secret), and the reader skips them instead of answering 500.
import { createLogger, type Logger } from '../../../runtime/src/log'

let log: Logger = createLogger('hub.state', { level: 'warn' })
const reported = new Set<string>()
/** Distinct key/field pairs remembered, so a bad record read on every request is one line, not thousands. */
const REPORTED_MAX = 1000

/** Where the reports go (the hub's logger; tests may catch them). */
export function setUndecodableLog(l: Logger): void {
  log = l
}

export function reportUndecodable(key: string, field: string, problem: string): void {
  const id = `${key}\u0000${field}`
  if (reported.has(id)) return
  if (reported.size >= REPORTED_MAX) reported.clear()
  reported.add(id)
  log.warn('skipped a stored value that cannot be decoded', { key, field, problem })
}

/** JSON.parse of a stored field; undefined (reported) when it is not JSON or fails `ok`. */
export function decodeJson<T>(key: string, field: string, raw: string, ok: (v: unknown) => v is T): T | undefined {
  let v: unknown
  try {
    v = JSON.parse(raw)
  } catch {
    reportUndecodable(key, field, 'not JSON')
    return undefined
  }
  if (!ok(v)) {
    reportUndecodable(key, field, 'unexpected JSON shape')
    return undefined
  }
  return v
}

/** Latest time a Date can hold, in epoch seconds (year 275760). */
const DATE_MAX_SEC = 8.64e12

/** An epoch-seconds field as an ISO time; undefined (reported) when it is no representable time. */
export function decodeEpochSec(key: string, field: string, raw: string): string | undefined {
  const n = Number(raw)
  if (!Number.isInteger(n) || n <= 0 || n > DATE_MAX_SEC) {
    reportUndecodable(key, field, 'not an epoch time in seconds')
    return undefined
  }
  return new Date(n * 1000).toISOString()
}

export const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string')
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
