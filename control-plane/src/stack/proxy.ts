// The edge proxy's options from the hub config, and `edgehub proxy`: one proxy replica in the foreground.
import { join, resolve } from 'node:path'
import type { Config } from '../config/schema'
import { loadConfig } from '../config/load'
import { publicUrl, redisTarget } from '../deps'
import { createLogger } from '../log'
import { startProxy, type ProxyProcessOptions } from '../../../proxy/src/nginx-process'

export function proxyOptions(config: Config): ProxyProcessOptions {
  return {
    listen: { host: config.host, port: config.port },
    hubUpstreams: config.proxy.hubUpstreams ?? [`${config.hub.host.includes(':') ? `[${config.hub.host}]` : config.hub.host}:${config.hub.port}`],
    redis: redisTarget(config),
    prefix: config.redis.prefix,
    runDir: resolve(config.proxy.runDir ?? join(config.dataDir, 'proxy')),
    workerProcesses: config.proxy.workers,
    sharedDictSize: config.proxy.sharedDictSize,
    activityFlushSec: config.proxy.activityFlushSec,
    user: process.getuid?.() === 0 ? 'root' : undefined,
    publicUrl: publicUrl(config),
  }
}

export async function runProxy(opts: { configFile?: string }): Promise<void> {
  const { config } = loadConfig({ file: opts.configFile })
  const log = createLogger('proxy', { level: config.logLevel })
  const o = proxyOptions(config)
  const started = startProxy(o)
  // Handlers before nginx answers: a signal sent as soon as the proxy serves must not meet Node's
  // default action (for SIGHUP, exiting). Every SIGHUP reloads, also one sent during the start.
  const stop = async () => {
    await (await started.catch(() => undefined))?.stop()
    process.exit(0)
  }
  process.once('SIGTERM', () => void stop())
  process.once('SIGINT', () => void stop())
  process.on('SIGHUP', () => void started.then((p) => p.reload()).catch((err: Error) => log.error('reload failed', { err })))
  const proxy = await started
  log.info('proxy running', { listen: `${config.host}:${config.port}`, hub: o.hubUpstreams, run_dir: o.runDir, pid: proxy.pid })
}
