// oidc-provider is a Koa app on Node's request and response. It gets the real request that
// @hono/node-server hands every handler (c.env.incoming: headers, body stream) and a response object
// of its own that is never sent: what Koa leaves in it (status, headers, body) becomes the Fetch
// Response the Hono handler returns, so the hub's middleware and error handling apply as usual.
import { ServerResponse, type IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import type { Context } from 'hono'
import type { HttpBindings } from '@hono/node-server'
import { HubError } from '../../../runtime/src/errors'
import type { Provider } from './provider'

export type NodeRequest = IncomingMessage & { originalUrl?: string }

/**
 * The raw request, with the forwarded scheme and host set to the issuer's (the provider trusts them:
 * `proxy = true`). So whichever proxy or port a request came through, the URLs the provider makes
 * (endpoints, redirects) and its cookies' Secure flag follow the issuer.
 */
export function nodeRequest(c: Context, issuer: string): NodeRequest {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming
  if (!incoming) throw new HubError(501, 'the OIDC provider runs only under the Node HTTP server', 'not_implemented')
  const u = new URL(issuer)
  incoming.headers['x-forwarded-proto'] = u.protocol.slice(0, -1)
  incoming.headers['x-forwarded-host'] = u.host
  return incoming
}

/** A response that only collects status and headers (nothing is ever written to a socket). */
export const scratchResponse = (req: IncomingMessage) => new ServerResponse(req)

const NO_BODY = new Set([204, 205, 304])

/** Runs a Koa app on the request and answers with what it produced (Koa's respond(), as a Response). */
export async function runKoa(
  app: Pick<Provider, 'createContext' | 'middleware'>,
  req: IncomingMessage,
): Promise<Response> {
  const res = scratchResponse(req)
  res.statusCode = 404
  const ctx = app.createContext(req, res)
  let i = -1
  const dispatch = async (n: number): Promise<void> => {
    if (n <= i) throw new Error('next() called multiple times')
    i = n
    const mw = app.middleware[n]
    if (mw) await mw(ctx, () => dispatch(n + 1))
  }
  await dispatch(0)

  const headers = new Headers()
  for (const [name, value] of Object.entries(res.getHeaders())) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else if (value !== undefined) headers.set(name, String(value))
  }
  const status = ctx.status
  if (NO_BODY.has(status) || ctx.method === 'HEAD') return new Response(null, { status, headers })
  let body: unknown = ctx.body
  if (body == null) body = ctx.message || String(status)
  if (typeof body === 'string') return new Response(body, { status, headers })
  if (Buffer.isBuffer(body)) return new Response(new Uint8Array(body), { status, headers })
  if (body instanceof Readable) return new Response(Readable.toWeb(body) as ReadableStream, { status, headers })
  headers.delete('content-length')
  return new Response(JSON.stringify(body), { status, headers })
}
