// The edge proxy's options from the hub config, and `edgehub proxy`: one proxy replica in the foreground.
//
// The replica owns its nginx. nginx runs in a process group of its own and is kept alive here
// (keep-alive.ts): when its master dies, what is left of the group (its workers, still serving) is
// killed and nginx is started again, at once the first time, then with a growing wait, each exit
// logged. Restarting here rather than exiting for a service manager to restart the whole replica
// recovers in the time of one nginx start, the same way with or without a service manager.
// SIGTERM/SIGINT stop nginx and then this process. A SIGKILL of this process cannot take nginx with
// it: the next `edgehub proxy` with the same run dir stops what the pid file there names before it
// starts, and refuses to start while an earlier `edgehub proxy` of that run dir still runs.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Config } from '../config/schema'
import { loadConfig } from '../config/load'
import { publicUrl, redisTarget } from '../deps'
import { createLogger } from '../../../runtime/src/log'
import { certificateFileProblem, watchCertificate } from './certificate-watch'
import { KeptAlive } from './keep-alive'
import { forgetParts, recordParts, startTimeOf, stopLeftovers } from './leftovers'
import { portProblem } from '../../../runtime/src/port-holders'
import { startProxy, type ProxyProcess, type ProxyProcessOptions } from '../../../proxy/src/nginx-process'

export function proxyOptions(config: Config): ProxyProcessOptions {
  return {
    listen: { host: config.host, port: config.port },
    hubUpstreams: config.proxy.hubUpstreams ?? [
      `${config.hub.host.includes(':') ? `[${config.hub.host}]` : config.hub.host}:${config.hub.port}`,
    ],
    redis: redisTarget(config),
    prefix: config.redis.prefix,
    runDir: resolve(config.proxy.runDir ?? join(config.dataDir, 'proxy')),
    workerProcesses: config.proxy.workers,
    sharedDictSize: config.proxy.sharedDictSize,
    activityFlushSec: config.proxy.activityFlushSec,
    trustedProxies: config.proxy.trustedProxies,
    // the remote-user authenticator's header, believed from trustedProxies only
    identityHeader: [config.auth.kind, ...config.auth.also].includes('remote-user')
      ? config.auth['remote-user'].header
      : undefined,
    user: process.getuid?.() === 0 ? 'root' : undefined,
    publicUrl: publicUrl(config),
    subdomainHost: config.subdomainHost,
    errorPagesDir: config.ui.templatePath && resolve(config.ui.templatePath),
    tls: config.proxy.tls && {
      certFile: resolve(config.proxy.tls.certFile),
      keyFile: resolve(config.proxy.tls.keyFile),
      httpRedirectPort: config.proxy.tls.httpRedirectPort,
      acmeWebroot: config.proxy.tls.acmeWebroot && resolve(config.proxy.tls.acmeWebroot),
      hstsMaxAgeSec: config.proxy.tls.hstsMaxAgeSec,
      hstsIncludeSubdomains: config.proxy.tls.hstsIncludeSubdomains,
    },
    metrics: config.proxy.metricsPort ? { host: config.proxy.metricsHost, port: config.proxy.metricsPort } : undefined,
  }
}

/** The `edgehub proxy` process of a run dir: its pid and start time. */
const REPLICA_FILE = 'edgehub-proxy.pid'

/** The pid of another `edgehub proxy` still running with this run dir, if any. */
function otherReplica(runDir: string): number | undefined {
  try {
    const r = JSON.parse(readFileSync(join(runDir, REPLICA_FILE), 'utf8')) as { pid: number; startTime: string }
    if (Number.isInteger(r.pid) && r.pid !== process.pid && startTimeOf(r.pid) === r.startTime) return r.pid
  } catch {
    /* none recorded */
  }
  return undefined
}

function fail(line: string): never {
  process.stderr.write(`edgehub: ${line}\n`)
  process.exit(1)
}

export async function runProxy(opts: { configFile?: string }): Promise<void> {
  const { config } = loadConfig({ file: opts.configFile })
  const log = createLogger('proxy', { level: config.logLevel })
  const o = proxyOptions(config)
  mkdirSync(o.runDir, { recursive: true })

  const other = otherReplica(o.runDir)
  if (other)
    fail(
      `another edgehub proxy (pid ${other}) runs with the run dir ${o.runDir} (proxy.runDir); stop it, or give this one a run dir of its own`,
    )
  writeFileSync(
    join(o.runDir, REPLICA_FILE),
    `${JSON.stringify({ pid: process.pid, startTime: startTimeOf(process.pid) })}\n`,
    { mode: 0o600 },
  )

  // What an earlier `edgehub proxy` of this run dir left running when it was killed outright.
  const leftovers = await stopLeftovers(o.runDir)
  if (leftovers.length) {
    const which = leftovers.map((l) => `${l.part} (pid ${l.pid})`).join(', ')
    process.stderr.write(`edgehub: stopped what an earlier edgehub proxy of ${o.runDir} left running: ${which}\n`)
    log.warn('stopped what an earlier edgehub proxy left running', { parts: leftovers })
  }
  const tls = o.tls
  const tlsProblem = tls && certificateFileProblem(tls)
  if (tlsProblem) fail(tlsProblem)
  const problem = await portProblem([
    { setting: 'port', host: config.host, port: config.port },
    ...(tls?.httpRedirectPort
      ? [{ setting: 'proxy.tls.httpRedirectPort', host: config.host, port: tls.httpRedirectPort }]
      : []),
  ])
  if (problem) fail(problem)

  let current: ProxyProcess | undefined
  const nginx = new KeptAlive(
    'nginx',
    async (signal) => {
      const p = await startProxy({ ...o, ownGroup: true, signal })
      current = p
      return { pid: p.pid, exited: p.exited, stop: () => p.stop() }
    },
    log,
  )
  nginx.onRunning = () => recordParts(o.runDir, [{ part: 'nginx', pid: nginx.pid }])

  // Handlers before nginx answers: a signal sent as soon as the proxy serves must not meet Node's
  // default action (for SIGHUP, exiting). Every SIGHUP reloads (the nginx running then), also one
  // sent during the start.
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info('stopping', { signal })
    await nginx.stop().catch((err: Error) => log.error('failed to stop nginx', { err: err.message }))
    forgetParts(o.runDir)
    rmSync(join(o.runDir, REPLICA_FILE), { force: true })
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
  const begun = nginx.begin()
  process.on('SIGHUP', () => {
    void begun.then(() => current!.reload()).catch((err: Error) => log.error('reload failed', { err: err.message }))
  })

  try {
    await begun
  } catch (err) {
    if (stopping) return
    rmSync(join(o.runDir, REPLICA_FILE), { force: true })
    fail(`the proxy did not start: ${(err as Error).message}`)
  }
  if (tls && config.proxy.tls)
    watchCertificate(tls, config.proxy.tls.reloadCheckSec, () => current!.reload(), log.child('tls'))
  log.info('proxy running', {
    listen: `${config.host}:${config.port}`,
    hub: o.hubUpstreams,
    run_dir: o.runDir,
    pid: nginx.pid,
  })
}
