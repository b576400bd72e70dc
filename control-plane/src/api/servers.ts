// /hub/api/users/{name}/server[s/{server}][/progress]: start (with user_options), stop or remove,
// and progress as Server-Sent Events, as JupyterHub.
import { Hono, type Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { HubEnv } from '../http/env'
import { need, serverTarget } from '../http/authorize'
import { BadRequest, NotFound } from '../errors'
import { serverBaseUrl } from '../spawn/orchestrator'
import { serverUrl } from '../http/subdomain'
import { checkServerName } from '../spawn/names'
import type { ProgressEvent } from '../spawn/progress'
import type { Json } from '../../../spawners/src/spawner'
import { jsonBody } from './body'

type C = Context<HubEnv>

/** The user and server a path names, after the caller's scope check (403; 404 without the user). */
async function resolve(c: C, scopes: readonly string[]) {
  const user = c.req.param('name')!
  const server = checkServerName(c.req.param('server') ?? '')
  need(c, scopes, await serverTarget(c, user, server, ...scopes))
  if (!(await c.var.deps.users.get(user))) throw new NotFound(`user ${user} not found`)
  return { user, server }
}

export function serverApi(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  const start = async (c: C) => {
    const { user, server } = await resolve(c, ['start:servers'])
    // The body is the user_options the spawner gets (a JSON object; any fields).
    const raw = (await c.req.text()).trim()
    let options: { [k: string]: Json } = {}
    if (raw) {
      try {
        options = JSON.parse(raw)
      } catch {
        throw new BadRequest('the body is not valid JSON')
      }
      if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new BadRequest('user_options must be a JSON object')
    }
    const result = await c.var.deps.orchestrator.start(user, server, options)
    return c.body(null, result === 'ready' ? 201 : 202)
  }

  const stop = async (c: C) => {
    const { user, server } = await resolve(c, ['delete:servers'])
    const body = await jsonBody(c, { remove: 'boolean' })
    if (body.remove && !server) throw new BadRequest('cannot delete the default server')
    const d = c.var.deps
    const rec = await d.servers.get(user, server)
    if (!rec || (rec.state === 'stopped' && !body.remove)) {
      if (!rec && server) throw new NotFound(`${user} has no server named ${server}`)
      return c.body(null, 204)
    }
    await d.orchestrator.stop(user, server, { remove: body.remove === true })
    return c.body(null, 204)
  }

  const progress = async (c: C) => {
    const { user, server } = await resolve(c, ['read:servers'])
    const d = c.var.deps
    const rec = await d.servers.get(user, server)
    if (!rec) throw new NotFound(`${user} has no server ${server || '(default)'}`)
    const url = serverUrl(d.config.subdomainHost, user, serverBaseUrl(user, server))
    return streamSSE(c, async (stream) => {
      const send = (ev: ProgressEvent) => stream.writeSSE({ data: JSON.stringify(ev) })
      if (rec.state === 'running') {
        // Replay the finished spawn's events, so a late listener still sees how it went.
        const past = (await d.progress.history(user, server)).filter((ev) => !ev.ready)
        for (const ev of past) await send(ev)
        return void (await send({ progress: 100, message: `Server ready at ${url}`, ready: true, url }))
      }
      if (rec.state === 'stopped') {
        return void (await send({ progress: 100, message: rec.failed ? `Spawn failed: ${rec.message}` : 'The server is not running', failed: true }))
      }
      const abort = new AbortController()
      stream.onAbort(() => abort.abort())
      for await (const ev of d.progress.follow(user, server, abort.signal)) await send(ev.ready ? { ...ev, url } : ev)
    })
  }

  app.post('/:name/server', start)
  app.delete('/:name/server', stop)
  app.get('/:name/server/progress', progress)
  app.post('/:name/servers/:server', start)
  app.delete('/:name/servers/:server', stop)
  app.get('/:name/servers/:server/progress', progress)
  return app
}
