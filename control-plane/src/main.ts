// The hub process: read config, build deps, serve. The only file with side effects at start.
import { createAdaptorServer } from '@hono/node-server'
import { loadConfig } from './config/load'
import { buildDeps } from './deps'
import { buildApp } from './app'
import { startJobs } from './jobs/leader'
import { hubJobs } from './jobs'
import { publishAccessIfRolesChanged } from './scopes/edge'
import { publishServices } from './services/registry'
import { createConfiguredUsers } from './users/configured'
import { portProblem } from '../../runtime/src/port-holders'
import { checkSchemaVersion, NewerSchema } from './ops/migrations'
import { setBranding } from './branding/branding'
import { brandingFrom } from './branding/load'
import { TemplateError } from './branding/templates'

/** How long a stopping replica keeps answering, each answer closing its connection (see shutdown). */
const DRAIN_MS = 1000

export async function runHub(opts: { configFile?: string } = {}): Promise<void> {
  const { config } = loadConfig({ file: opts.configFile })
  // the pages' look: the logo and template folder are read here, once
  try {
    setBranding(brandingFrom(config.ui))
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err
    process.stderr.write(`edgehub: ${err.message}\n`)
    process.exit(1)
  }
  // A port held by something else (an earlier hub still draining, another program) stops the start
  // with one line naming it, before Redis is touched.
  const taken = await portProblem([{ setting: 'hub.port', host: config.hub.host, port: config.hub.port }])
  if (taken) {
    process.stderr.write(`edgehub: ${taken}\n`)
    process.exit(1)
  }
  const deps = await buildDeps(config)
  const { log } = deps
  // data a newer edgehub has migrated: one line, before anything is written
  await checkSchemaVersion(deps.redis, deps.keys, { fresh: deps.hubIdNamedNow }).catch(async (err: Error) => {
    if (!(err instanceof NewerSchema)) throw err
    process.stderr.write(`edgehub: ${err.message}\n`)
    await deps.close()
    process.exit(1)
  })
  if (config.auth.kind === 'dummy') {
    log.warn(
      'auth.kind=dummy accepts any user name and password: it is for development only; you MUST change it before exposing the hub',
    )
  }
  await deps.cookieKeys.current()
  await deps.tables.set('settings', 'admin_access', config.proxy.adminAccess)
  await deps.tables.set('settings', 'token_in_query', config.hub.tokenInQuery)
  await createConfiguredUsers(deps)
  await publishAccessIfRolesChanged(deps)
  await publishServices(deps)
  const leadership = startJobs(deps.redis, deps.keys.leader, hubJobs(deps), log.child('jobs'))
  // POST /hub/api/shutdown: this replica stops (after stopping every server, when asked to)
  const apiShutdown = (servers: boolean) =>
    void (servers ? deps.orchestrator.stopAll() : Promise.resolve()).finally(() => shutdown())
  const app = buildApp(deps, { leadership, shutdown: apiShutdown })
  const server = createAdaptorServer({ fetch: app.fetch })
  // A burst of connections (a thousand users starting their servers at once) waits in the accept
  // queue while the event loop is busy; Node's default of 511 would drop the rest. The kernel caps
  // it at net.core.somaxconn.
  // taken between the check above and now: the same one line
  const listenFailed = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EADDRINUSE' && err.code !== 'EACCES' && err.code !== 'EADDRNOTAVAIL') throw err
    process.stderr.write(
      `edgehub: cannot listen on ${config.hub.host}:${config.hub.port} (hub.host, hub.port): ${err.code}\n`,
    )
    process.exit(1)
  }
  server.once('error', listenFailed)
  server.once('listening', () => server.off('error', listenFailed))
  server.listen({ host: config.hub.host, port: config.hub.port, backlog: 4096 }, () =>
    log.info('hub listening', { host: config.hub.host, port: config.hub.port }),
  )
  // Graceful, in two steps. First, for DRAIN_MS, every answer closes its connection: a proxy holds
  // idle keep-alive connections to this replica, and one closed under a request it just sent there
  // (a POST) cannot be sent again to another replica; answered with Connection: close, each leaves
  // the proxy's pool at its next use. Then stop accepting connections (proxies move to the other
  // replicas), let requests in flight finish (at most 10 s) and spawns this replica is running (at
  // most 30 s). Leadership is given up at once so another replica takes the jobs over.
  let draining = false
  server.prependListener('request', (_req, res) => {
    if (draining) res.setHeader('Connection', 'close')
  })
  const within = (ms: number, p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, ms).unref())])
  const shutdown = () => {
    log.info('shutting down')
    draining = true
    const leaving = leadership.stop()
    const closed = new Promise<void>((resolve) =>
      setTimeout(() => {
        server.close(() => resolve())
        if ('closeIdleConnections' in server) server.closeIdleConnections()
      }, DRAIN_MS),
    )
    void Promise.all([leaving, within(DRAIN_MS + 10_000, closed), within(30_000, deps.orchestrator.drain())])
      .then(() => deps.close())
      .finally(() => process.exit(0))
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
}
