// The highly available topology for a test: Redis (standalone with AOF, or master + replica + 3
// sentinels), N hub replicas, M nginx proxies and HAProxy in front of the proxies, all real processes
// on free loopback ports with data in a temp directory. Every process is stopped by PID in stop().
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { startRedis, type RedisProcess } from '../../control-plane/src/stack/redis-process'
import { startChild, type Child } from '../../runtime/src/child'
import { proxyOptions } from '../../control-plane/src/stack/proxy'
import { startProxy, HEALTH_PATH, type ProxyProcess } from '../../proxy/src/nginx-process'
import { stopServices } from '../../control-plane/src/services/supervisor'
import { freePort } from '../../runtime/src/ports'
import { waitFor } from '../../runtime/src/wait'
import { loadConfig } from '../../control-plane/src/config/load'
import { buildDeps, type Deps } from '../../control-plane/src/deps'
import type { Config } from '../../control-plane/src/config/schema'
import { createLogger } from '../../runtime/src/log'
import { startSentinelGroup, type SentinelGroup } from './sentinel'
import { BIN } from './stack'
import { ownAccountPrefix, removeStackAccounts } from './accounts'
import {
  haproxyServersUp,
  haproxyTimings,
  renderHaproxyConfig,
  SHIPPED_HAPROXY_CFG,
  type HaproxyTimings,
} from './haproxy'

export interface ClusterOptions {
  hubs?: number
  proxies?: number
  haproxy?: boolean
  sentinel?: boolean
  /** Merged over the test defaults (config file keys). */
  overrides?: Record<string, unknown>
}

export interface Cluster {
  /** HAProxy's address when it runs, else the first proxy's. */
  url: string
  dir: string
  config: Config
  /** The test's own connection to the state (seeding, counting). */
  deps: Deps
  hubUrls: string[]
  proxyUrls: string[]
  redis?: RedisProcess
  sentinel?: SentinelGroup
  hubAlive(i: number): boolean
  startHub(i: number): Promise<void>
  /** kill -9 (default) or a graceful SIGTERM. */
  killHub(i: number, signal?: NodeJS.Signals): Promise<void>
  signalHub(i: number, signal: NodeJS.Signals): void
  startProxy(i: number): Promise<void>
  /** SIGKILL to the nginx master and every worker at once. */
  killProxy(i: number): Promise<void>
  /** Graceful stop of one proxy (SIGTERM, connections drained by nginx). */
  stopProxy(i: number): Promise<void>
  /** Stops Redis (SIGTERM: AOF flushed) and starts it again on the same port and data. */
  /** SIGTERM to Redis, then start it again; onExited is called once the old process is gone. */
  restartRedis(onExited?: () => void): Promise<void>
  /** The health-check timings of deploy/haproxy/haproxy.cfg, which HAProxy runs with here. */
  haproxyTimings: HaproxyTimings
  /** Waits until HAProxy counts proxy i as up (true) or down (false) in its rotation. */
  waitForHaproxy(i: number, up: boolean, timeoutMs?: number): Promise<void>
  /** fail_timeout of the hub upstream in the proxies' rendered nginx.conf: how long a proxy skips a replica that refused. */
  hubFailTimeoutMs(): number
  /** Which hub replica holds the leader lease (index), or -1. */
  leader(): Promise<number>
  /** Waits until some replica holds the leader lease; its index. */
  waitForLeader(): Promise<number>
  stop(): Promise<void>
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const nHubs = opts.hubs ?? 2
  const nProxies = opts.proxies ?? 2
  const dir = mkdtempSync(join(tmpdir(), 'edgehub-cluster-'))
  const ports = await Promise.all(Array.from({ length: nHubs + nProxies + 2 }, () => freePort()))
  const hubPorts = ports.slice(0, nHubs)
  const proxyPorts = ports.slice(nHubs, nHubs + nProxies)
  const [haPort, redisPort] = ports.slice(nHubs + nProxies)

  let redis: RedisProcess | undefined
  let sentinel: SentinelGroup | undefined
  const redisSettings: Record<string, unknown> = {}
  if (opts.sentinel) {
    sentinel = await startSentinelGroup({ dir: join(dir, 'sentinel') })
    redisSettings.sentinel = {
      hosts: sentinel.sentinelHosts.map((s) => `${s.host}:${s.port}`),
      masterName: sentinel.masterName,
    }
  } else {
    redis = await startRedis({ dir: join(dir, 'redis'), port: redisPort })
    redisSettings.url = redis.url
  }

  const settings = {
    dataDir: dir,
    port: opts.haproxy === false ? proxyPorts[0] : haPort,
    logLevel: 'info',
    hub: { port: hubPorts[0], pollIntervalSec: 1, slowSpawnTimeoutSec: 5, serverLockLeaseSec: 3 },
    redis: redisSettings,
    proxy: { workers: 1, hubUpstreams: hubPorts.map((p) => `127.0.0.1:${p}`), activityFlushSec: 1 },
    auth: { native: { scryptCost: 1024 } },
    ...opts.overrides,
  }
  // `proxy: { adminAccess: false }` adds to the proxy settings (its hub upstreams stay); other keys replace
  if (opts.overrides?.proxy)
    settings.proxy = {
      workers: 1,
      hubUpstreams: hubPorts.map((p) => `127.0.0.1:${p}`),
      activityFlushSec: 1,
      ...(opts.overrides.proxy as object),
    }
  // a hub running as root makes a Unix account per user: this cluster's own, removed when it stops
  const accountPrefix = ownAccountPrefix(settings)
  const configFile = join(dir, 'edgehub.yaml')
  writeFileSync(configFile, stringify(settings))
  const { config } = loadConfig({ file: configFile, env: {} })
  const deps = await buildDeps(config, { log: createLogger('test', { level: 'error' }) })
  const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))

  const hubs: Array<Child | undefined> = []
  const proxies: Array<ProxyProcess | undefined> = []
  const hubUrls = hubPorts.map((p) => `http://127.0.0.1:${p}`)
  const proxyUrls = proxyPorts.map((p) => `http://127.0.0.1:${p}`)
  let haproxy: Child | undefined

  const shippedHaproxy = readFileSync(SHIPPED_HAPROXY_CFG, 'utf8')
  const haSocket = join(dir, 'haproxy.sock')

  const cluster: Cluster = {
    url: opts.haproxy === false ? proxyUrls[0] : `http://127.0.0.1:${haPort}`,
    dir,
    config,
    deps,
    hubUrls,
    proxyUrls,
    redis,
    sentinel,
    hubAlive: (i) => !!hubs[i] && hubs[i]!.proc.exitCode === null && hubs[i]!.proc.signalCode === null,
    async startHub(i) {
      hubs[i] = startChild({
        name: `hub${i}`,
        command: process.execPath,
        args: [BIN, 'hub', '--config', configFile],
        env: { ...baseEnv, EDGEHUB_HUB_PORT: String(hubPorts[i]) },
        logFile: join(dir, `hub${i}.log`),
      })
      await waitFor(`hub ${i} health`, async () => (await fetch(`${hubUrls[i]}/hub/health`).catch(() => null))?.ok, {
        timeoutMs: 60_000,
      }) // a start takes seconds on a busy machine (sources compiled at start)
    },
    async killHub(i, signal = 'SIGKILL') {
      const h = hubs[i]
      if (!h || !cluster.hubAlive(i)) return
      if (signal === 'SIGTERM') return h.stop()
      h.proc.kill(signal)
      await h.exited
    },
    signalHub(i, signal) {
      hubs[i]?.proc.kill(signal)
    },
    async startProxy(i) {
      proxies[i] = await startProxy({
        ...proxyOptions(config),
        listen: { host: '127.0.0.1', port: proxyPorts[i] },
        runDir: join(dir, `proxy${i}`),
      })
    },
    async killProxy(i) {
      await proxies[i]?.kill()
      proxies[i] = undefined
    },
    async stopProxy(i) {
      await proxies[i]?.stop()
      proxies[i] = undefined
    },
    async restartRedis(onExited) {
      if (!redis) throw new Error('restartRedis: this cluster runs Sentinel')
      await redis.stop()
      onExited?.()
      redis = await startRedis({ dir: join(dir, 'redis'), port: redisPort })
      cluster.redis = redis
    },
    haproxyTimings: haproxyTimings(shippedHaproxy),
    async waitForHaproxy(i, up, timeoutMs = 15_000) {
      if (opts.haproxy === false) return
      await waitFor(
        `HAProxy to count proxy ${i} ${up ? 'up' : 'down'}`,
        async () => (await haproxyServersUp(haSocket, 'edgehub_proxies')).includes(`proxy${i}`) === up,
        {
          timeoutMs,
          intervalMs: 100,
        },
      )
    },
    hubFailTimeoutMs() {
      const conf = readFileSync(join(dir, 'proxy0', 'nginx.conf'), 'utf8')
      const found = /upstream edgehub_hub \{[^}]*?fail_timeout=(\d+)(ms|s)\b/.exec(conf)
      if (!found) throw new Error('proxy nginx.conf: no fail_timeout in the hub upstream')
      return Number(found[1]) * (found[2] === 's' ? 1000 : 1)
    },
    async leader() {
      const states = await Promise.all(
        hubUrls.map(
          async (u) =>
            (
              (await fetch(`${u}/hub/health`)
                .then((r) => r.json())
                .catch(() => null)) as { leader?: boolean } | null
            )?.leader,
        ),
      )
      return states.indexOf(true)
    },
    async waitForLeader() {
      const found = await waitFor('a leader', async () => {
        const l = await cluster.leader()
        return l >= 0 && { l }
      })
      return found.l
    },
    async stop() {
      await haproxy?.stop().catch(() => {})
      for (let i = 0; i < nHubs; i++) {
        if (cluster.hubAlive(i)) await hubs[i]!.stop().catch(() => {})
      }
      await deps.orchestrator.stopAll().catch(() => {})
      await stopServices(deps).catch(() => {})
      for (let i = 0; i < nProxies; i++) await proxies[i]?.stop().catch(() => {})
      await deps.close()
      await redis?.stop()
      await sentinel?.stop()
      removeStackAccounts(accountPrefix)
      if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
    },
  }

  try {
    for (let i = 0; i < nHubs; i++) await cluster.startHub(i)
    for (let i = 0; i < nProxies; i++) await cluster.startProxy(i)
    if (opts.haproxy !== false) {
      const cfg = join(dir, 'haproxy.cfg')
      writeFileSync(
        cfg,
        renderHaproxyConfig(shippedHaproxy, {
          listen: `127.0.0.1:${haPort}`,
          proxyPorts,
          statsSocket: haSocket,
          maxconn: 4096,
        }),
      )
      haproxy = startChild({
        name: 'haproxy',
        command: 'haproxy',
        args: ['-db', '-f', cfg],
        logFile: join(dir, 'haproxy.log'),
      })
      await waitFor(
        'haproxy to reach the proxies',
        async () => (await fetch(`${cluster.url}${HEALTH_PATH}`).catch(() => null))?.ok,
        { timeoutMs: 15_000 },
      )
      for (let i = 0; i < nProxies; i++) await cluster.waitForHaproxy(i, true)
    }
  } catch (err) {
    await cluster.stop()
    throw err
  }
  return cluster
}
