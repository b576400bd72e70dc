// The admin page acts through the REST API's own handlers: each form (its XSRF field checked by
// form()) becomes one in-process request to the user, server and group endpoints, made as the
// page's visitor. The scope checks, refusals and side effects are the API's, not a copy of them.
import { Hono } from 'hono'
import { HubError, NotFound } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { userApi } from '../api/users'
import { serverApi } from '../api/servers'
import { groupApi } from '../api/groups'
import { PAGINATION_TYPE } from '../api/pagination'
import type { C } from './page-kit'
import { auditRequests } from '../audit/middleware'

let restApi: Hono<HubEnv> | undefined

/** The API endpoints the admin page uses, run with the page request's deps and identity. */
function api(): Hono<HubEnv> {
  if (restApi) return restApi
  const app = new Hono<HubEnv>()
  app.use('*', async (ctx, next) => {
    const page = (ctx.env as { page: C }).page
    ctx.set('deps', page.var.deps)
    ctx.set('identity', page.var.identity)
    ctx.set('service', null)
    ctx.set('xsrf', page.var.xsrf)
    ctx.set('requestId', page.var.requestId)
    await next()
  })
  app.use(
    '*',
    auditRequests('api', '', (ctx) => (ctx.env as { page: C }).page),
  )
  app.route('/', userApi())
  app.route('/users', serverApi())
  app.route('/groups', groupApi())
  app.notFound((ctx) => {
    throw new NotFound(`no API endpoint ${ctx.req.method} ${ctx.req.path}`)
  })
  // errors reach the page's handler, and the hub's error page, as they are
  app.onError((err) => {
    throw err
  })
  restApi = app
  return app
}

/**
 * Calls METHOD PATH (below /hub/api) as the page's visitor; the decoded JSON answer (null for an
 * empty one). A refusal is thrown as the API's HubError (its status and message), which the hub
 * shows as a page.
 */
export async function callApi<T = unknown>(
  c: C,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { accept: `${PAGINATION_TYPE}, application/json` }
  let payload: string | undefined
  if (body !== undefined) {
    headers['content-type'] = 'application/json'
    payload = typeof body === 'string' ? body : JSON.stringify(body)
  }
  const req = new Request(`http://hub${path}`, { method, headers, body: payload })
  const res = await api().fetch(req, { page: c })
  const text = await res.text()
  if (res.status >= 400) {
    // an answer the API made itself (the handlers throw; only a framework answer lands here)
    let message = text
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text
    } catch {}
    throw new HubError(res.status, message)
  }
  return (text ? JSON.parse(text) : null) as T
}

/** A path segment of a user, server or group name. */
export const seg = (s: string) => encodeURIComponent(s)
