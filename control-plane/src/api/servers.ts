// /hub/api/users/:name/server[s/:server]: start, stop, progress (JupyterHub's shapes).
import { Hono, type Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { HubEnv } from '../http/env'
import { requireSelfOrAdmin } from '../http/identity'
import { NotFound } from '../errors'
import { serverBaseUrl } from '../spawn/orchestrator'
import { checkServerName } from '../spawn/names'
import type { ProgressEvent } from '../spawn/progress'

type C = Context<HubEnv>

const names = (c: C) => ({ user: c.req.param('name')!, server: checkServerName(c.req.param('server') ?? '') })

export function serverApi(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  const start = async (c: C) => {
    const { user, server } = names(c)
    requireSelfOrAdmin(c, user)
    const d = c.var.deps
    if (!(await d.users.get(user))) throw new NotFound(`user ${user} not found`)
    const result = await d.orchestrator.start(user, server)
    return c.body(null, result === 'ready' ? 201 : 202)
  }

  const stop = async (c: C) => {
    const { user, server } = names(c)
    requireSelfOrAdmin(c, user)
    const d = c.var.deps
    if (!(await d.users.get(user))) throw new NotFound(`user ${user} not found`)
    await d.orchestrator.stop(user, server)
    return c.body(null, 204)
  }

  const progress = async (c: C) => {
    const { user, server } = names(c)
    requireSelfOrAdmin(c, user)
    const d = c.var.deps
    const rec = await d.servers.get(user, server)
    if (!rec) throw new NotFound(`${user} has no server ${server || '(default)'}`)
    const url = serverBaseUrl(user, server)
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
