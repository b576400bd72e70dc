// `edgehub up`: the one-machine stack. A small supervisor runs a private Redis, the nginx proxy and one
// hub as separate processes, restarts the hub if it dies, and stops everything on Ctrl-C / SIGTERM.
import { stopServices } from '../services/supervisor'
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../config/load'
import { buildDeps, publicUrl } from '../deps'
import { proxyOptions } from './proxy'
import { createLogger } from '../log'
import { startRedis, type RedisProcess } from './redis-process'
import { startChild, type Child } from './child'
import { startProxy } from '../../../proxy/src/nginx-process'
import { waitFor } from '../util/wait'

const BIN = resolve(fileURLToPath(import.meta.url), '../../../../bin/edgehub.js')

export async function runStack(opts: { configFile?: string }): Promise<void> {
  const { config, file } = loadConfig({ file: opts.configFile })
  const log = createLogger('up', { level: config.logLevel })
  const logDir = join(config.dataDir, 'logs')
  mkdirSync(logDir, { recursive: true })
  const stops: Array<() => Promise<void>> = []
  let shuttingDown = false

  const shutdown = async (code: number) => {
    if (shuttingDown) return
    shuttingDown = true
    process.stdout.write('\nedgehub: stopping…\n')
    for (const stop of stops.reverse()) await stop().catch((err) => log.error('failed to stop a component', { err }))
    process.stdout.write('edgehub: stopped\n')
    process.exit(code)
  }
  process.once('SIGINT', () => void shutdown(0))
  process.once('SIGTERM', () => void shutdown(0))

  try {
    let redis: RedisProcess | undefined
    if (!config.redis.url && !config.redis.sentinel) {
      redis = await startRedis({ dir: join(config.dataDir, 'redis'), port: config.redis.port })
      stops.push(() => redis!.stop())
      log.info('redis started', { port: config.redis.port, dir: join(config.dataDir, 'redis') })
    }

    // The supervisor's own view of the state: first-admin bootstrap, and stopping servers at shutdown.
    const deps = await buildDeps(config, { log: log.child('hub') })
    stops.push(() => deps.close())
    stops.push(async () => {
      await deps.orchestrator.stopAll()
      await stopServices(deps)
      log.info('stopped all user servers')
    })

    // The hub, restarted whenever it exits.
    let hub: Child | undefined
    const hubArgs = [BIN, 'hub', ...(file ? ['--config', file] : [])]
    let restarts = 0
    const spawnHub = () => {
      hub = startChild({ name: 'hub', command: process.execPath, args: hubArgs, logFile: join(logDir, 'hub.log') })
      const started = Date.now()
      void hub.exited.then((code) => {
        if (shuttingDown) return
        restarts = Date.now() - started > 30_000 ? 0 : restarts + 1
        const wait = Math.min(30_000, 250 * 2 ** restarts)
        log.warn('hub exited; restarting', { code, in_ms: wait })
        setTimeout(() => !shuttingDown && spawnHub(), wait)
      })
    }
    spawnHub()
    stops.push(async () => hub?.stop())

    const proxy = await startProxy(proxyOptions(config))
    stops.push(() => proxy.stop())

    await waitFor('the hub to answer', async () => {
      const res = await fetch(`http://${config.hub.host}:${config.hub.port}/hub/health`).catch(() => null)
      return res?.ok
    }, { timeoutMs: 30_000, intervalMs: 100 })

    const firstAdmin = await bootstrapAdmin(deps, config.auth.admins[0] ?? 'admin')
    const url = publicUrl(config)
    const lines = [
      '',
      `edgehub is running at ${url}/`,
      '',
      `  proxy (nginx)  ${config.host}:${config.port}  logs: ${join(config.dataDir, 'proxy', 'logs')}`,
      `  hub            ${config.hub.host}:${config.hub.port}  log: ${join(logDir, 'hub.log')}`,
      redis
        ? `  redis          127.0.0.1:${config.redis.port}  data: ${join(config.dataDir, 'redis')}`
        : `  redis          ${config.redis.sentinel ? `sentinels ${config.redis.sentinel.hosts.join(', ')}` : new URL(config.redis.url!).host}`,
      `  servers        logs: ${join(logDir, 'servers')}  homes: ${join(config.dataDir, 'home')}`,
      `  config         ${file ?? 'defaults (no edgehub.yaml); EDGEHUB_* environment overrides'}`,
      '',
    ]
    if (firstAdmin) {
      lines.push(`First admin: log in as "${firstAdmin.name}" with password: ${firstAdmin.password}`, '(shown once; change it at /hub/change-password)', '')
    } else if (config.auth.kind === 'native' && (await deps.users.count()) === 0) {
      lines.push('Create the first admin with: npx edgehub user add NAME --admin', '')
    }
    lines.push('Press Ctrl-C to stop.', '')
    process.stdout.write(lines.join('\n'))
  } catch (err) {
    process.stderr.write(`edgehub: failed to start: ${(err as Error).message}\n`)
    await shutdown(1)
  }
}

/** On a hub with no users at all, makes the first admin with a generated password (native auth). */
async function bootstrapAdmin(deps: Awaited<ReturnType<typeof buildDeps>>, name: string) {
  if (!deps.native || (await deps.users.count()) > 0) return null
  const password = randomBytes(12).toString('base64url')
  await deps.users.create(name, { admin: true, passwordHash: await deps.native.hash(password) })
  return { name, password }
}
