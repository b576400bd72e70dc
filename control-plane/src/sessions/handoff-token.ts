// The hand-off token of per-user hosts (subdomainHost): signed by the hub (pages/handoff.ts), checked
// by the proxy (proxy/lua/edgehub/handoff.lua). Part of the hub's protocol (protocol.ts).
import { createHmac } from 'node:crypto'

/** How long a hand-off is valid; the proxy refuses any valid for longer than 60 s. */
export const HANDOFF_TTL_SEC = 30
const PURPOSE = 'edgehub-handoff\0'
const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url')

export interface HandoffClaims {
  kid: string
  user: string
  sid: string
  /** The session's expiry (epoch seconds): the host cookie ends with it. */
  exp: number
  /** The user's host, as the browser sends it in Host ("alice.hub.example.org[:port]"). */
  host: string
  /** The hand-off's own expiry (epoch seconds). */
  until: number
}

/** `h1.<kid>.<user>.<sid>.<session expiry>.<host>.<expiry>.<sig>` (user and host base64url). */
export function signHandoff(c: HandoffClaims, secret: string): string {
  const payload = ['h1', c.kid, b64url(c.user), c.sid, String(c.exp), b64url(c.host), String(c.until)].join('.')
  return `${payload}.${createHmac('sha256', Buffer.from(secret, 'base64url'))
    .update(PURPOSE + payload)
    .digest('base64url')}`
}
