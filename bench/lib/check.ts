// Checks before a load run that a system answers as the benchmark expects: the upstream's 200 with
// its body ("ok\n") with credentials, the hub's own answer for a hub request, and (for the edge
// proxy) a refusal without credentials. No redirect is followed: a 302 is an answer to check.
import { request } from 'undici'
import type { WrkRequest } from './wrk'

/** What the body must be: exactly this text, or a test of it; default: the upstream's "ok\n" for a 200. */
export type BodyCheck = string | { describe: string; test(body: string): boolean }

export async function expectAnswer(
  base: string,
  r: WrkRequest,
  status: number,
  what: string,
  body?: BodyCheck,
): Promise<void> {
  const res = await request(`${base}${r.path}`, { method: 'GET', headers: r.headers })
  const text = await res.body.text()
  const want = body ?? (status === 200 ? 'ok\n' : undefined)
  const bodyOk = want === undefined || (typeof want === 'string' ? text === want : want.test(text))
  if (res.statusCode !== status || !bodyOk) {
    const expected = `${status}${want === undefined ? '' : ` with ${typeof want === 'string' ? JSON.stringify(want) : want.describe}`}`
    throw new Error(
      `${what}: GET ${r.path} answered ${res.statusCode} ${JSON.stringify(text.slice(0, 80))}, expected ${expected}`,
    )
  }
}

/** A JSON body whose field `key` is `value` (e.g. the user model of GET /hub/api/user). */
export function jsonField(key: string, value: unknown): BodyCheck {
  return {
    describe: `a JSON body with ${key} ${JSON.stringify(value)}`,
    test(text) {
      try {
        return (JSON.parse(text) as Record<string, unknown>)[key] === value
      } catch {
        return false
      }
    },
  }
}
