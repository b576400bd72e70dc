// The scenario parameters shared with the k6 scripts (bench/params.json), typed.
import raw from '../params.json' with { type: 'json' }

export const params = raw

/** bench-0 … bench-(n-1) */
export function benchUsers(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${params.userPrefix}${i}`)
}

/** A path template with {user} filled in. */
export function userPath(template: string, user: string): string {
  return template.replaceAll('{user}', user)
}
