// POST /hub/api/batchspawner: a batch job's server reports the port it listens on (batchspawner's
// path and body, {"port": N}, answered 201 as there). Only a server's own API token may report, and
// only for its own server: a user's other tokens, and other users' tokens, get 403. The optional
// "user" and "server" fields (sent by edgehub's job scripts) must name the token's own server.
import { Hono } from 'hono'
import type { HubEnv } from '../http/env'
import { bearerToken } from '../http/identity'
import { BadRequest, Forbidden } from '../../../runtime/src/errors'
import { jsonBody } from './body'
import { ServerReportStore } from '../state/server-reports'
import { tokenDigest } from '../../../spawners/src'

export function batchspawnerApi(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()
  app.post('/batchspawner', async (c) => {
    const id = c.var.identity
    const token = bearerToken(c.req.header('authorization'))
    if (id?.via !== 'token' || id.token?.kind !== 'server' || !token)
      throw new Forbidden("only a server's own API token may report its port")
    const user = id.user.name
    const server = id.token.server
    const body = await jsonBody(c, { port: 'number', user: 'string', server: 'string' }, { required: true })
    if ((body.user !== undefined && body.user !== user) || (body.server !== undefined && body.server !== server))
      throw new Forbidden("a server's token reports only its own server's port")
    const { port } = body
    if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535)
      throw new BadRequest('port: expected an integer from 1 to 65535')
    const d = c.var.deps
    const rec = await d.servers.get(user, server)
    // the token of the start under way (or of the running server), not one of an earlier start
    if (!rec || rec.state === 'stopped' || rec.state === 'stopping' || rec.token !== token)
      throw new Forbidden('this token belongs to no server that is starting or running')
    await new ServerReportStore(d.redis, d.config.redis.prefix).set(user, server, {
      port,
      tokenDigest: tokenDigest(token),
      at: new Date().toISOString(),
    })
    d.log.info('a server reported its port', { user, server, port })
    return c.json({ message: 'BatchSpawner data configured' }, 201)
  })
  return app
}
