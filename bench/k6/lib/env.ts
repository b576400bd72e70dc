// Reading the scripts' environment variables (k6 run -e NAME=value, or the process environment).

export function envStr(name: string, fallback: string): string {
  const v = __ENV[name]
  return v === undefined || v === '' ? fallback : v
}

export function envInt(name: string, fallback: number): number {
  const v = __ENV[name]
  if (v === undefined || v === '') return fallback
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${v}: expected a number >= 0`)
  return Math.floor(n)
}

export function envNum(name: string, fallback: number): number {
  const v = __ENV[name]
  if (v === undefined || v === '') return fallback
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${v}: expected a number >= 0`)
  return n
}

export function envBool(name: string, fallback: boolean): boolean {
  const v = __ENV[name]
  if (v === undefined || v === '') return fallback
  return !/^(0|false|no|off)$/i.test(v)
}

/** One of the allowed values (the first is the default). */
export function envChoice<T extends string>(name: string, allowed: readonly T[]): T {
  const v = envStr(name, allowed[0])
  if (!(allowed as readonly string[]).includes(v))
    throw new Error(`${name}=${v}: expected one of ${allowed.join(', ')}`)
  return v as T
}

/** BASE_URL without a trailing slash: the public address of the deployment (load balancer or proxy). */
export function baseUrl(): string {
  const v = __ENV.BASE_URL
  if (!v) throw new Error('BASE_URL is required, e.g. k6 run -e BASE_URL=https://hub.example.org …')
  if (!/^https?:\/\/[^/]+/.test(v)) throw new Error(`BASE_URL=${v}: expected http(s)://host[:port]`)
  return v.replace(/\/+$/, '')
}

/** The WebSocket form of a base URL: http → ws, https → wss. */
export function wsUrl(base: string): string {
  return base.replace(/^http/, 'ws')
}

/**
 * A duration from the environment, as k6 takes it ("90s", "2m", "1m30s"); a bare number is seconds.
 * Returns the k6 string and its length in seconds.
 */
export function envDuration(name: string, fallbackSec: number): { k6: string; sec: number } {
  const v = envStr(name, String(fallbackSec))
  if (/^\d+(\.\d+)?$/.test(v)) return { k6: `${v}s`, sec: Number(v) }
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 }
  let sec = 0
  let rest = v
  const part = /^(\d+(?:\.\d+)?)(ms|h|m|s)/
  while (rest) {
    const m = part.exec(rest)
    if (!m) throw new Error(`${name}=${v}: expected a duration such as 30s, 2m or 1m30s`)
    sec += Number(m[1]) * units[m[2]]
    rest = rest.slice(m[0].length)
  }
  return { k6: v, sec }
}

/** Milliseconds on the best clock k6 offers the script (performance.now() where present). */
export function nowMs(): number {
  const perf = (globalThis as { performance?: { now(): number } }).performance
  return perf && typeof perf.now === 'function' ? perf.now() : Date.now()
}

/** The Trend statistics every script shows in its end-of-test summary. */
export const TREND_STATS = ['avg', 'min', 'med', 'p(90)', 'p(99)', 'p(99.9)', 'max', 'count']
