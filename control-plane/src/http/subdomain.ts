// Per-user hosts (config subdomainHost, JupyterHub's subdomain_host): NAME's server is served at
// scheme://<label(NAME)>.<host>/user/NAME/. Mirrors proxy/lua/edgehub/subdomain.lua, which decides
// where requests are served; here the hub only writes the URLs it hands out.
import { createHash } from 'node:crypto'

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

/**
 * The DNS label of NAME's host: NAME when it is a label already (lower-case letters, digits, '-'
 * inside, not only digits, at most 63 characters, no "--"), else `u-<up to 8 of its letters and
 * digits, or x>--<7 hex digits of SHA-256(NAME)>`, as JupyterHub's default subdomain hook (without
 * its IDNA step: such names take the hashed form).
 */
export function subdomainLabel(name: string): string {
  if (!name.includes('--') && DNS_LABEL.test(name) && !/^\d+$/.test(name)) return name
  const stub =
    name
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 8) || 'x'
  return `u-${stub}--${createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 7)}`
}

/** The origin of NAME's host ("https://alice.hub.example.org"), or '' without subdomainHost. */
export function userOrigin(subdomainHost: string | undefined, name: string): string {
  if (!subdomainHost) return ''
  const u = new URL(subdomainHost)
  return `${u.protocol}//${subdomainLabel(name)}.${u.host}`
}

/**
 * A server's URL as the hub hands it out: path (`/user/NAME/…`) on NAME's own host with subdomainHost
 * (a full URL, as JupyterHub's user.url is then), else the path alone.
 */
export function serverUrl(subdomainHost: string | undefined, name: string, path: string): string {
  return userOrigin(subdomainHost, name) + path
}

/** NAME of a `/user/NAME/…` path as the browser sends it (percent-encoded), or undefined. */
export function userOfPath(path: string): string | undefined {
  const m = /^\/user\/([^/?#]+)(?:[/?#]|$)/.exec(path)
  if (!m) return undefined
  try {
    return decodeURIComponent(m[1])
  } catch {
    return undefined
  }
}
