// The address of the client a request comes from, as the hub learns it: the edge proxy appends the
// address it saw to X-Forwarded-For (nginx's $proxy_add_x_forwarded_for), so the last entry is the
// one a client cannot choose; entries before it are whatever the client or a front proxy sent. Used
// where the hub counts by client (login throttling). 'unknown' when there is none.
import { isIP } from 'node:net'
import type { Context } from 'hono'
import type { HubEnv } from './env'

export function clientAddress(c: Context<HubEnv>): string {
  const addr = c.req.header('x-forwarded-for')?.split(',').pop()?.trim() ?? ''
  return isIP(addr) ? addr.toLowerCase() : 'unknown'
}
