// The highly available topology for a test: Redis (standalone with AOF, or master + replica + 3
// sentinels), N hub replicas, M proxies (harness.ts: `edgehub hub` and `edgehub proxy` from one config
// file) and HAProxy in front of the proxies, all real processes on free loopback ports with data in a
// temp directory. Every process is stopped by PID in stop().
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startChild, type Child } from '../../runtime/src/child'
import { freePort } from '../../runtime/src/ports'
import { waitFor } from '../../runtime/src/wait'
import { HEALTH_PATH, startHarness, type Harness } from './harness'
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
  /** Merged over the test defaults (config file keys; objects one level deep). */
  overrides?: Record<string, unknown>
}

export interface Cluster extends Omit<Harness, 'startHub' | 'startProxy'> {
  /** HAProxy's address when it runs, else the first proxy's. */
  url: string
  /** Starts hub i and waits until it answers (opts: as the harness's startHub). */
  startHub(i: number, opts?: Parameters<Harness['startHub']>[1]): Promise<void>
  startProxy(i: number): Promise<void>
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
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const nHubs = opts.hubs ?? 2
  const nProxies = opts.proxies ?? 2
  const haPort = await freePort()
  const h = await startHarness({
    hubs: nHubs,
    proxies: nProxies,
    redis: opts.sentinel ? 'sentinel' : 'open',
    settings: {
      logLevel: 'info',
      hub: { serverLockLeaseSec: 3 },
      proxy: { activityFlushSec: 1 },
      // the address users reach: HAProxy's (each proxy listens on a port of its own)
      ...(opts.haproxy === false ? {} : { publicUrl: `http://127.0.0.1:${haPort}` }),
      ...opts.overrides,
      ...(opts.overrides?.proxy ? { proxy: { activityFlushSec: 1, ...(opts.overrides.proxy as object) } } : {}),
    },
  })
  const { dir, hubUrls, proxyPorts } = h
  let haproxy: Child | undefined
  const shippedHaproxy = readFileSync(SHIPPED_HAPROXY_CFG, 'utf8')
  const haSocket = join(dir, 'haproxy.sock')

  const base = { startHub: h.startHub, startProxy: h.startProxy, stop: h.stop }
  const cluster: Cluster = Object.assign(h, {
    url: opts.haproxy === false ? h.proxyUrls[0] : `http://127.0.0.1:${haPort}`,
    async startHub(i: number, o?: Parameters<Harness['startHub']>[1]) {
      await base.startHub(i, o)
    },
    async startProxy(i: number) {
      await base.startProxy(i)
    },
    haproxyTimings: haproxyTimings(shippedHaproxy),
    async waitForHaproxy(i: number, up: boolean, timeoutMs = 15_000) {
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
      await base.stop()
    },
  })

  try {
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
