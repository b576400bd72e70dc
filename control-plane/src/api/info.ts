// GET /hub/api (version, for anyone) and GET /hub/api/info (read:hub).
import { Hono } from 'hono'
import type { HubEnv } from '../http/env'
import { need } from '../http/authorize'
import { JUPYTERHUB_API_VERSION, VERSION } from '../version'

/**
 * `python`: in JupyterHub, sys.version of the interpreter running the hub, whose path is
 * `sys_executable`. The hub here runs on Node.js, so both describe that runtime (never null: the
 * spec types it as a string); what servers run is the spawner's business.
 */
const RUNTIME = `Node.js ${process.versions.node} (V8 ${process.versions.v8})`

export function infoApi(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()
  app.get('/', (c) => c.json({ version: JUPYTERHUB_API_VERSION }))
  app.get('/info', async (c) => {
    need(c, 'read:hub')
    const { config } = c.var.deps
    return c.json({
      version: JUPYTERHUB_API_VERSION,
      edgehub: { version: VERSION },
      python: RUNTIME,
      sys_executable: process.execPath,
      authenticator: { class: config.auth.kind, version: VERSION },
      spawner: { class: config.spawner.kind, version: VERSION },
    })
  })
  return app
}
