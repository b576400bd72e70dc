// `edgehub up`: the one-machine stack. A small supervisor runs a private Redis, the nginx proxy and one
// hub as separate processes, each in its own process group, restarts whichever dies (keep-alive.ts),
// and on Ctrl-C / SIGTERM stops users' servers, the hub, the proxy and Redis, in that order.
import { stopServices } from '../services/supervisor'
import { chmodSync, mkdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../config/load'
import { buildDeps, publicUrl, redisWhere, type Deps } from '../deps'
import { certificateFileProblem, watchCertificate } from './certificate-watch'
import { proxyOptions } from './proxy'
import { createLogger, type Logger } from '../../../runtime/src/log'
import { startRedis } from './redis-process'
import { privateRedisDir } from './redis-acl'
import { startChild } from '../../../runtime/src/child'
import { KeptAlive } from './keep-alive'
import { ForeignRedis, keepStackId, readStackId } from './identity'
import { portProblem } from '../../../runtime/src/port-holders'
import { forgetParts, recordParts, stopLeftovers } from './leftovers'
import { startProxy, type ProxyProcess } from '../../../proxy/src/nginx-process'
import { delay, waitFor } from '../../../runtime/src/wait'
import { bootstrapFirstAdmin } from '../users/configured'
import { spawnerNotes } from '../../../spawners/src'

const BIN = resolve(fileURLToPath(import.meta.url), '../../../../bin/edgehub.js')

export async function runStack(opts: { configFile?: string }): Promise<void> {
  const { config, file } = loadConfig({ file: opts.configFile })
  const log = createLogger('up', { level: config.logLevel })
  const privateRedis = !config.redis.url && !config.redis.sentinel

  // What a supervisor killed with SIGKILL left running of this stack (its own pid file says which)
  // goes first: it holds the ports.
  const leftovers = await stopLeftovers(config.dataDir)
  if (leftovers.length) {
    const which = leftovers.map((l) => `${l.part} (pid ${l.pid})`).join(', ')
    process.stderr.write(`edgehub: stopped what an earlier edgehub up of ${config.dataDir} left running: ${which}\n`)
    log.warn('stopped the parts an earlier supervisor left running', { parts: leftovers })
  }

  // Before anything starts: every port this stack listens on must be free. A second stack on the
  // same ports would otherwise talk to the first one's Redis, hub and proxy.
  const tls = proxyOptions(config).tls
  const problem =
    (tls && certificateFileProblem(tls)) ||
    (await portProblem([
      { setting: 'port', host: config.host, port: config.port },
      { setting: 'hub.port', host: config.hub.host, port: config.hub.port },
      ...(privateRedis ? [{ setting: 'redis.port', host: '127.0.0.1', port: config.redis.port }] : []),
      ...(tls?.httpRedirectPort
        ? [{ setting: 'proxy.tls.httpRedirectPort', host: config.host, port: tls.httpRedirectPort }]
        : []),
    ]))
  if (problem) {
    process.stderr.write(`edgehub: ${problem}\n`)
    process.exit(1)
  }

  // The hub's data (Redis files, keys, logs) is the hub's alone: users' servers run as other accounts.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  if (statSync(config.dataDir).uid === process.getuid?.()) chmodSync(config.dataDir, 0o700)
  const logDir = join(config.dataDir, 'logs')
  mkdirSync(logDir, { recursive: true })
  let redis: KeptAlive | undefined
  let hub: KeptAlive | undefined
  let proxy: KeptAlive | undefined
  let deps: Deps | undefined
  let stopping: Promise<void> | undefined

  // In order, whatever asked: users' servers (while Redis still answers), the hub, the proxy, Redis.
  const shutdown = async (code: number) => {
    process.stdout.write('\nedgehub: stopping…\n')
    const started = Date.now()
    const step = async (what: string, fn: () => Promise<unknown>) => {
      await fn().catch((err: Error) => log.error(`failed to stop ${what}`, { err: err.message }))
    }
    const redisAnswers = !!deps && (await ownRedisAnswers(deps))
    if (!redisAnswers && deps) log.warn("Redis does not answer: users' servers are stopped by their process mark only")
    if (deps && config.cleanupServers) await step("users' servers", () => stopUserServers(deps!, redisAnswers, log))
    else if (deps && redisAnswers) await step('managed services', () => withinMs(5000, stopServices(deps!)))
    // a hub without Redis has nothing left to finish: it gets a second, not five
    await step('the hub', async () => hub?.stop(redisAnswers ? 5000 : 1000))
    // a server the hub started while it was being stopped carries the same mark
    if (deps && config.cleanupServers) await step("users' servers", () => stopMarkedServers(deps!, log))
    await step('the proxy', async () => proxy?.stop())
    await step('the connection to Redis', async () => deps?.close())
    await step('redis', async () => redis?.stop())
    forgetParts(config.dataDir)
    log.info('stopped', { took_ms: Date.now() - started, servers_left_running: !config.cleanupServers })
    process.stdout.write('edgehub: stopped\n')
    process.exit(code)
  }
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return log.info('already stopping', { signal })
    log.info('stopping', { signal })
    stopping = shutdown(0)
  }
  // The children run in process groups of their own (ChildSpec.ownGroup): a Ctrl-C reaches this
  // process only, and it stops them in order. SIGHUP: the terminal went away.
  // (Node resets an ignored SIGHUP to its default at start, so `nohup` cannot keep a Node program
  // alive: it always ended with the terminal; now it stops in order. Use systemd, or setsid.)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal)
  /** Ends the start when a signal came in meanwhile (the shutdown takes over). */
  const stillStarting = () => {
    if (stopping) throw new Stopping()
  }

  // the pids of the running parts, kept for the next start in case this process is killed outright
  const record = () =>
    recordParts(config.dataDir, [
      { part: 'redis', pid: redis?.pid },
      { part: 'hub', pid: hub?.pid },
      { part: 'proxy', pid: proxy?.pid },
    ])

  try {
    if (privateRedis) {
      const dir = privateRedisDir(config.dataDir)
      redis = new KeptAlive(
        'redis',
        async (signal) => {
          // only the hub's and the proxy's ACL users log in; a data directory from before ACLs gets them now
          const r = await startRedis({
            dir,
            port: config.redis.port,
            ownGroup: true,
            signal,
            acl: { prefix: config.redis.prefix },
          })
          return { pid: r.child.proc.pid!, exited: r.child.exited, stop: (graceMs) => r.child.stop(graceMs) }
        },
        log,
      )
      redis.onRunning = record
      await redis.begin()
      log.info('redis started', { port: config.redis.port, dir, pid: redis.pid })
    }
    stillStarting()

    // The supervisor's own view of the state: the stack's identity, first-admin bootstrap, and
    // stopping servers at shutdown. buildDeps refuses a Redis that holds another stack's id.
    const d = await buildDeps(config, { log: log.child('hub') })
    if (!privateRedis && !readStackId(config.dataDir) && !d.hubIdNamedNow) {
      // not this stack's: nothing of it may be stopped at the shutdown that follows
      await d.close()
      throw new ForeignRedis(redisWhere(config), d.hubId, config.dataDir)
    }
    deps = d
    keepStackId(config.dataDir, deps.hubId)
    stillStarting()

    // The hub, restarted whenever it exits.
    const hubArgs = [BIN, 'hub', ...(file ? ['--config', file] : [])]
    hub = new KeptAlive(
      'hub',
      async () => {
        const c = startChild({
          name: 'hub',
          command: process.execPath,
          args: hubArgs,
          logFile: join(logDir, 'hub.log'),
          ownGroup: true,
        })
        return { pid: c.proc.pid ?? 0, exited: c.exited, stop: (graceMs) => c.stop(graceMs) }
      },
      log,
    )
    hub.onRunning = record
    await hub.begin()

    let nginx: ProxyProcess | undefined
    proxy = new KeptAlive(
      'proxy',
      async (signal) => {
        const p = await startProxy({ ...proxyOptions(config), ownGroup: true, signal })
        nginx = p
        return { pid: p.pid, exited: p.exited, stop: () => p.stop() }
      },
      log,
    )
    proxy.onRunning = record
    await proxy.begin()
    if (tls && config.proxy.tls)
      watchCertificate(tls, config.proxy.tls.reloadCheckSec, () => nginx!.reload(), log.child('tls'))
    stillStarting()

    await waitFor(
      'the hub to answer',
      async () => {
        stillStarting()
        const res = await fetch(
          `http://${config.hub.host.includes(':') ? `[${config.hub.host}]` : config.hub.host}:${config.hub.port}/hub/health`,
        ).catch(() => null)
        return res?.ok
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    )
    stillStarting()

    const firstAdmin = await bootstrapFirstAdmin(deps)
    const url = publicUrl(config)
    const lines = [
      '',
      `edgehub is running at ${url}/`,
      '',
      `  proxy (nginx)  ${config.host}:${config.port}  logs: ${join(config.dataDir, 'proxy', 'logs')}`,
      `  hub            ${config.hub.host}:${config.hub.port}  log: ${join(logDir, 'hub.log')}`,
      privateRedis
        ? `  redis          127.0.0.1:${config.redis.port}  data: ${join(config.dataDir, 'redis')}`
        : `  redis          ${config.redis.sentinel ? `sentinels ${config.redis.sentinel.hosts.join(', ')}` : new URL(config.redis.url!).host}`,
      `  servers        logs: ${join(logDir, 'servers')}  ${spawnerNotes(config.spawner, config.dataDir).place ?? ''}`,
      `  config         ${file ?? 'defaults (no edgehub.yaml); EDGEHUB_* environment overrides'}`,
      '',
    ]
    const { isolation } = spawnerNotes(config.spawner, config.dataDir)
    if (isolation) lines.push(`Note: ${isolation}`, '')
    if (firstAdmin) {
      lines.push(
        `First admin: log in as "${firstAdmin.name}" with password: ${firstAdmin.password}`,
        '(shown once; change it at /hub/change-password)',
        '',
      )
    }
    lines.push(
      config.cleanupServers
        ? 'Press Ctrl-C to stop.'
        : "Press Ctrl-C to stop (users' servers keep running: cleanupServers is false).",
      '',
    )
    process.stdout.write(lines.join('\n'))
  } catch (err) {
    if (stopping) return // a signal came in during the start: the shutdown is under way
    process.stderr.write(`edgehub: failed to start: ${(err as Error).message}\n`)
    stopping = shutdown(1)
  }
}

/** Thrown when a signal arrives while the stack is starting. */
class Stopping extends Error {}

const withinMs = (ms: number, p: Promise<unknown>) => Promise.race([p, delay(ms)])

/** Whether this stack's Redis answers now (within a second) and still holds this stack's id. */
async function ownRedisAnswers(deps: Deps): Promise<boolean> {
  const id = await Promise.race([deps.redis.get(deps.keys.hubId).catch(() => null), delay(1000).then(() => null)])
  return id === deps.hubId
}

/**
 * Stops users' servers and managed services through the hub's records (routes removed, records
 * marked stopped); when Redis does not answer, or for whatever is left, by the mark every process the
 * hub starts carries (EDGEHUB_HUB_ID), so none outlives the stack.
 */
async function stopUserServers(deps: Deps, redisAnswers: boolean, log: Logger): Promise<void> {
  if (redisAnswers) {
    const graceMs = deps.config.spawner.stopGraceSec * 1000
    await withinMs(graceMs + 5000, Promise.all([deps.orchestrator.stopAll(), stopServices(deps)]))
  }
  await stopMarkedServers(deps, log)
  log.info('stopped all user servers')
}

async function stopMarkedServers(deps: Deps, log: Logger): Promise<void> {
  const found = (await deps.spawner.list?.(deps.hubId)) ?? []
  await Promise.all(found.map((f) => deps.spawner.stop(f.state, { graceMs: 2000 }).catch(() => {})))
  if (found.length)
    log.info('stopped server processes by their mark', { count: found.length, pids: found.map((f) => f.state.pid) })
}
