// The configuration as `edgehub config check` prints it: every secret it holds replaced, so the
// output can go into a ticket or a log. Secrets are the values of keys named for one (password,
// apiToken, clientSecret, ...) and the password part of a URL (redis.url).
const SECRET_KEY = /(password|secret|apitoken)$/i
export const HIDDEN = '[hidden]'

/** value with its URL password, if any, replaced: redis://user:PASS@host -> redis://user:[hidden]@host. */
function withoutUrlPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, `$1:${HIDDEN}@`)
}

export function redactConfig(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return SECRET_KEY.test(key) ? HIDDEN : withoutUrlPassword(value)
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, key))
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactConfig(v, k)]))
  return value
}
