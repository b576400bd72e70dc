// /hub/api/users/{name}/server[s/{server}][/progress]: a server's model (GET), create a stopped
// named server (PUT), change a stopped one (PATCH), start (POST, with display_name and user_options),
// stop or remove (DELETE), and progress as Server-Sent Events, as JupyterHub 6. The default server
// is `server` or `servers/` (an empty name).
import { Hono, type Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { HubEnv } from '../http/env'
import { need, serverTarget } from '../http/authorize'
import { BadRequest, NotFound } from '../../../runtime/src/errors'
import { serverBaseUrl } from '../spawn/orchestrator'
import { serverUrl } from '../http/subdomain'
import { checkServerName } from '../spawn/names'
import type { ProgressEvent } from '../spawn/progress'
import { neverStarted, type ServerRecord } from '../state/servers'
import { jsonBody } from './body'
import { serverModel } from './server-model'
import { serverChange, serverRequest } from './server-request'

type C = Context<HubEnv>

/** The user and server a path names, after the caller's scope check (403; 404 without the user). */
async function resolve(c: C, scopes: readonly string[]) {
  const user = c.req.param('name')!
  const server = checkServerName(c.req.param('server') ?? '')
  need(c, scopes, await serverTarget(c, user, server, ...scopes))
  if (!(await c.var.deps.users.get(user))) throw new NotFound(`user ${user} not found`)
  return { user, server }
}

/** A record as JupyterHub's Server model, with the activity the proxies reported for it. */
async function modelOf(
  c: C,
  rec: Pick<ServerRecord, 'user' | 'name' | 'state' | 'started' | 'lastActivity' | 'userOptions' | 'displayName'>,
) {
  const d = c.var.deps
  const seen = (await d.activity.ofUser(rec.user, [rec.name])).get(rec.name)
  return serverModel(rec.user, rec, seen, d.config)
}

export function serverApi(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  const read = async (c: C) => {
    const { user, server } = await resolve(c, ['read:servers'])
    const rec = await c.var.deps.servers.get(user, server)
    // the default server exists whether or not it ever started, as in JupyterHub
    if (!rec && server) throw new NotFound(`${user} has no server named ${server}`)
    return c.json(await modelOf(c, rec ?? neverStarted(user)))
  }

  const create = async (c: C) => {
    const { user, server } = await resolve(c, ['start:servers'])
    const body = await serverRequest(c)
    const d = c.var.deps
    await d.serverEdits.create(user, server, { displayName: body.displayName ?? '', userOptions: body.userOptions })
    return c.json(await modelOf(c, (await d.servers.get(user, server))!), 201)
  }

  const modify = async (c: C) => {
    const { user, server } = await resolve(c, ['start:servers'])
    const change = await serverChange(c)
    // a rename writes the server under its new name: the caller must be able to start that one too
    // (a token for USER/SERVER alone cannot move a server outside its filter, or probe other names)
    if (change.name !== undefined && change.name !== server)
      need(c, ['start:servers'], await serverTarget(c, user, checkServerName(change.name), 'start:servers'))
    return c.json(await modelOf(c, await c.var.deps.serverEdits.modify(user, server, change)))
  }

  const start = async (c: C) => {
    const { user, server } = await resolve(c, ['start:servers'])
    // JupyterHub 6's {display_name, user_options}, or (as before it) the user_options themselves;
    // no options: those recorded for the server are used again
    const body = await serverRequest(c)
    const d = c.var.deps
    // a named server's display name is recorded with the spawn once admitted, so pages show it while
    // it spawns and a refused start leaves nothing behind
    const result = await d.orchestrator.start(user, server, body.userOptions, {
      displayName: (server && body.displayName) || undefined,
    })
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
        return void (await send({
          progress: 100,
          message: rec.failed ? `Spawn failed: ${rec.message}` : 'The server is not running',
          failed: true,
        }))
      }
      const abort = new AbortController()
      stream.onAbort(() => abort.abort())
      for await (const ev of d.progress.follow(user, server, abort.signal)) await send(ev.ready ? { ...ev, url } : ev)
    })
  }

  app.post('/:name/server', start)
  app.delete('/:name/server', stop)
  app.get('/:name/server/progress', progress)
  for (const path of ['/:name/servers/:server', '/:name/servers/']) {
    app.get(path, read)
    app.put(path, create)
    app.patch(path, modify)
    app.post(path, start)
    app.delete(path, stop)
  }
  app.get('/:name/servers/:server/progress', progress)
  return app
}
