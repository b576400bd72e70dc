// JupyterHub's list paging: offset/limit query parameters, and the
// application/jupyterhub-pagination+json envelope for clients that ask for it.
import type { Context } from 'hono'
import type { HubEnv } from '../http/env'
import { BadRequest } from '../../../runtime/src/errors'

export const PAGINATION_TYPE = 'application/jupyterhub-pagination+json'
const DEFAULT_LIMIT = 50
export const MAX_LIMIT = 200

export function intParam(c: Context<HubEnv>, name: string, fallback: number, min: number): number {
  const raw = c.req.query(name)
  if (raw === undefined || raw === '') return fallback
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < min) throw new BadRequest(`${name} must be an integer >= ${min}`)
  return Number(raw)
}

/**
 * offset and limit as JupyterHub reads them: limit clamped to 1..200, and 200 by default for clients
 * that do not ask for pages (endpoints that always answer with pages: 50).
 */
export function pageParams(
  c: Context<HubEnv>,
  opts: { alwaysPaged?: boolean } = {},
): { offset: number; limit: number } {
  const paged = opts.alwaysPaged || (c.req.header('accept') ?? '').includes(PAGINATION_TYPE)
  const limit = intParam(c, 'limit', paged ? DEFAULT_LIMIT : MAX_LIMIT, 0)
  return { offset: intParam(c, 'offset', 0, 0), limit: Math.max(1, Math.min(limit, MAX_LIMIT)) }
}

/**
 * The response for one page: a bare list, or the envelope when the client accepts it. `next.url` is
 * absolute (clients such as the idle culler fetch it as is): this request with offset and limit moved.
 */
export function pageResponse(c: Context<HubEnv>, items: unknown, p: { offset: number; limit: number; total: number }) {
  if (!(c.req.header('accept') ?? '').includes(PAGINATION_TYPE)) return c.json(items)
  const next = p.offset + p.limit
  const query = new URL(c.req.url).searchParams
  query.set('offset', String(next))
  query.set('limit', String(p.limit))
  const url = `${c.var.deps.publicUrl}${c.req.path}?${query}`
  return c.json({
    items,
    _pagination: {
      offset: p.offset,
      limit: p.limit,
      total: p.total,
      next: next < p.total ? { offset: next, limit: p.limit, url } : null,
    },
  })
}
