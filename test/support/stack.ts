// Starts the real stack for a test: Redis, one hub process, the nginx proxy, all on free loopback ports,
// with data in a temp directory. Everything is stopped by PID in stop().
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { stringify } from 'yaml'
import { startRedis, type RedisProcess } from '../../control-plane/src/stack/redis-process'
import { startChild, type Child } from '../../runtime/src/child'
import { startProxy } from '../../proxy/src/nginx-process'
import { proxyOptions } from '../../control-plane/src/stack/proxy'
import { stopServices } from '../../control-plane/src/services/supervisor'
import { ownAccountPrefix, removeStackAccounts } from './accounts'
import { freePort } from '../../runtime/src/ports'
import { waitFor } from '../../runtime/src/wait'
import { loadConfig } from '../../control-plane/src/config/load'
import { buildDeps, type Deps } from '../../control-plane/src/deps'
import { createLogger } from '../../runtime/src/log'

export const ROOT = resolve(import.meta.dirname, '../..')
export const BIN = join(ROOT, 'bin/edgehub.js')

export interface Stack {
  url: string
  dir: string
  configFile: string
  deps: Deps
  hub: Child
  startHub(): Promise<void>
  killHub(signal?: NodeJS.Signals): Promise<void>
  stop(): Promise<void>
}

export async function startStack(overrides: Record<string, unknown> = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'edgehub-test-'))
  const [freeProxyPort, hubPort, redisPort] = await Promise.all([freePort(), freePort(), freePort()])
  const port = typeof overrides.port === 'number' ? overrides.port : freeProxyPort // a test may need to know it first
  // Redis as edgehub up runs it: only the hub's and the proxy's ACL users log in
  const redis: RedisProcess = await startRedis({
    dir: join(dir, 'redis'),
    port: redisPort,
    acl: { prefix: 'edgehub:' },
  })
  const defaults: Record<string, unknown> = {
    dataDir: dir,
    port,
    logLevel: 'warn',
    hub: { port: hubPort, pollIntervalSec: 1, slowSpawnTimeoutSec: 5 },
    redis: { url: redis.url },
    proxy: { workers: 1, redis: redis.credentials!.proxy },
    auth: { native: { scryptCost: 1024 } },
  }
  // `hub: { allowNamedServers: true }` adds to the hub defaults (its port stays); other keys replace
  const settings = { ...defaults, ...overrides }
  for (const k of ['hub', 'proxy'])
    if (overrides[k]) settings[k] = { ...(defaults[k] as object), ...(overrides[k] as object) }
  // a hub running as root makes a Unix account per user: this stack's own, removed when it stops
  const accountPrefix = ownAccountPrefix(settings)
  const configFile = join(dir, 'edgehub.yaml')
  writeFileSync(configFile, stringify(settings))
  const { config } = loadConfig({ file: configFile, env: {} })

  const deps = await buildDeps(config, { log: createLogger('test', { level: 'error' }) })
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))

  const stack: Stack = {
    url: `http://127.0.0.1:${port}`,
    dir,
    configFile,
    deps,
    hub: undefined as unknown as Child,
    async startHub() {
      stack.hub = startChild({
        name: 'hub',
        command: process.execPath,
        args: [BIN, 'hub', '--config', configFile],
        env,
        logFile: join(dir, 'hub.log'),
      })
      await waitFor(
        'hub health',
        async () => (await fetch(`http://127.0.0.1:${hubPort}/hub/health`).catch(() => null))?.ok,
        { timeoutMs: 20_000 },
      )
    },
    async killHub(signal = 'SIGKILL') {
      stack.hub.proc.kill(signal)
      await stack.hub.exited
    },
    async stop() {
      await stack.hub?.stop().catch(() => {})
      await deps.orchestrator.stopAll().catch(() => {})
      await stopServices(deps).catch(() => {})
      await proxy.stop().catch(() => {})
      await deps.close()
      await redis.stop()
      removeStackAccounts(accountPrefix)
      if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
    },
  }
  await stack.startHub()
  const proxy = await startProxy({ ...proxyOptions(config), runDir: join(dir, 'proxy') })
  return stack
}
