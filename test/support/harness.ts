// How tests and benchmarks start edgehub: as an operator does, from a written config file, through the
// CLI. One machine, N hubs (`edgehub hub`) and M proxies (`edgehub proxy`, each with its own nginx)
// against a Redis started here with redis-server (with the hub's and the proxy's ACL log-ins, as
// `edgehub up` runs it, or without), or a Sentinel group. All on free loopback ports, data in one
// directory; every process is a child of this one, stopped by pid.
//
// A test talks to the stack through HTTP (people.ts, client.ts) and reads or seeds state through
// Redis, logged in as the hub, with the key schema of control-plane/src/protocol.ts (`state`, `keys`,
// `tables`). Users' servers and managed services carry the hub's mark (EDGEHUB_HUB_ID in their
// environment): stop() finds them by it once the hubs are down, as `edgehub up` does at its shutdown.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Redis } from 'ioredis'
import { stringify } from 'yaml'
import {
  keyNames,
  prepareRedisAcl,
  ProxyTables,
  type KeyNames,
  type RedisCredentials,
} from '../../control-plane/src/protocol'
import { HEALTH_PATH } from '../../proxy/src/nginx-process'
import { startChild, killGroup, type Child } from '../../runtime/src/child'
import { freePort } from '../../runtime/src/ports'
import { parents, procStat, stopTree } from '../../runtime/src/process-tree'
import { startRedisServer as startRedisProcess } from '../../runtime/src/redis-server'
import { waitFor } from '../../runtime/src/wait'
import { ownAccountPrefix, removeStackAccounts } from './accounts'
import { runMark } from './leftovers'
import { stackStarted, stackStopped } from './live-stacks'
import { startSentinelGroup, type SentinelGroup } from './sentinel'

export const ROOT = resolve(import.meta.dirname, '../..')
export const BIN = join(ROOT, 'bin/edgehub.js')
/** The client name (CLIENT SETNAME) of the harness's own Redis connection, `state`: not the hub's. */
export const STATE_CONNECTION = 'harness-state'
/** The proxy's health location: 200 once the proxy has synced its tables. */
export { HEALTH_PATH }

/** The environment for an `edgehub` process: this one's, without EDGEHUB_* settings leaking in. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_') && k !== 'NODE_OPTIONS'),
    ),
    ...extra,
  }
}

/**
 * Runs `edgehub ARGS --config configFile` as an operator does on the stack's machine, without blocking
 * this process (a synchronous run would keep it from seeing the connections a hub closes meanwhile);
 * its trimmed stdout, or an error with its stderr.
 */
export function edgehubCli(configFile: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args, '--config', configFile],
      { env: cleanEnv(), encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`edgehub ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout.trim()),
    )
    child.stdin?.end(input ?? '')
  })
}

// ---------------------------------------------------------------------------------------------------
// Redis

export interface RedisServer {
  /** With acl: carries the hub's log-in. */
  url: string
  port: number
  dir: string
  /** With acl: the hub's and the proxy's log-ins (dir/credentials.json). */
  credentials?: RedisCredentials
  child: Child
  pid: number
  /** SIGTERM (AOF flushed), waits for the exit. */
  stop(): Promise<void>
}

export interface RedisServerOptions {
  dir: string
  port?: number
  /** Off: no AOF (a scratch Redis). Default on, as edgehub up runs it. */
  appendonly?: boolean
  /** The hub's and the proxy's ACL users for keys under prefix, the default user off (protocol.ts). */
  acl?: { prefix: string }
  /** Another redis-server binary (or a wrapper), for fault tests. */
  command?: string
}

/** A redis-server on loopback, configured as `edgehub up` configures its private one (runtime/src/redis-server.ts). */
export async function startRedisServer(opts: RedisServerOptions): Promise<RedisServer> {
  const port = opts.port ?? (await freePort())
  const acl = opts.acl ? prepareRedisAcl(opts.dir, opts.acl.prefix) : undefined
  const started = await startRedisProcess({
    dir: opts.dir,
    port,
    appendonly: opts.appendonly,
    command: opts.command,
    aclFile: acl?.aclFile,
    login: acl?.creds.hub,
  })
  return { ...started, dir: opts.dir, credentials: acl?.creds, pid: started.child.proc.pid! }
}

// ---------------------------------------------------------------------------------------------------
// Users' servers and managed services, by their mark

/** Processes marked EDGEHUB_HUB_ID=hubId whose parent is not: servers and services, not their kernels. */
export function markedProcesses(hubId: string): number[] {
  const ppids = parents()
  const marked = new Set<number>()
  for (const pid of ppids.keys()) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
      if (env.includes(`EDGEHUB_HUB_ID=${hubId}`)) marked.add(pid)
    } catch {
      /* gone, or another user's */
    }
  }
  return [...marked].filter((pid) => !marked.has(ppids.get(pid) ?? 0))
}

/** The users' servers among markedProcesses(hubId), with whose they are (from their environment, as the spawner lists them). */
export function markedServers(hubId: string): Array<{ pid: number; user: string; server: string }> {
  return markedProcesses(hubId).flatMap((pid) => {
    try {
      const env = new Map(
        readFileSync(`/proc/${pid}/environ`, 'utf8')
          .split('\0')
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const),
      )
      if (procStat(pid)?.state === 'Z' || !env.has('JUPYTERHUB_USER')) return []
      return [{ pid, user: env.get('JUPYTERHUB_USER')!, server: env.get('JUPYTERHUB_SERVER_NAME') ?? '' }]
    } catch {
      return [] // gone
    }
  })
}

/** Stops (SIGTERM, then SIGKILL) every process tree carrying hubId's mark. */
export async function stopMarkedProcesses(hubId: string, graceMs = 3000): Promise<number> {
  const roots = markedProcesses(hubId)
  await Promise.all(
    roots.map((pid) => {
      const st = procStat(pid)
      return st ? stopTree({ pid, startTime: st.startTime }, graceMs).catch(() => {}) : undefined
    }),
  )
  return roots.length
}

// ---------------------------------------------------------------------------------------------------
// Stacks

export interface HarnessOptions {
  /** Hub replicas (`edgehub hub`); default 1. */
  hubs?: number
  /** Proxies (`edgehub proxy`); default 1. */
  proxies?: number
  /** 'acl' (default): the hub's and the proxy's log-ins only, as edgehub up; 'open': no ACL; 'sentinel': master, replica, 3 sentinels. */
  redis?: 'acl' | 'open' | 'sentinel'
  /**
   * With redis 'sentinel': a group the caller started (and stops), e.g. with ACL users of its own; then
   * settings.redis gives the hub's log-in (url) and the sentinels' (sentinel.username, .password).
   */
  sentinelGroup?: SentinelGroup
  /** Config file keys over the defaults; an object value is merged one level deep (hub, proxy, auth, …). */
  settings?: Record<string, unknown>
  /** Where the stack keeps its data; default a new temp directory, removed by stop(). */
  dir?: string
  /** Extra node flags for hub processes (e.g. --cpu-prof). */
  hubNodeArgs?: string[]
  /**
   * 'test' (default): fast polls (hub.pollIntervalSec 1, hub.slowSpawnTimeoutSec 5) and a cheap password
   * hash (auth.native.scryptCost 1024) under the settings; 'product': the product's defaults (benchmarks).
   */
  defaults?: 'test' | 'product'
  /** How long a hub or proxy may take to answer; default 60 s (a busy machine compiling sources). */
  startTimeoutMs?: number
  /**
   * Where each part writes in dir: 'numbered' (default) hub<i>.log, proxy<i>.log and the run dir
   * proxy<i>/; 'single' hub.log, proxy.log and proxy/, as `edgehub up` lays out its one proxy.
   */
  layout?: 'numbered' | 'single'
}

/** A hub or proxy process of the stack. */
export interface Part {
  index: number
  port: number
  url: string
  child: Child
  pid: number
  alive(): boolean
}

/** The fields of a server's hash, with `spawner` (the spawner's state) parsed from its JSON. */
export interface ServerHash {
  state: 'pending' | 'running' | 'stopping' | 'stopped'
  url?: string
  target?: string
  fence?: string
  spawner?: Record<string, any>
  [field: string]: unknown
}

/** Reads `P server:<user>/<server>` (docs/redis-schema.md). */
export async function readServerRecord(
  redis: Redis,
  keys: KeyNames,
  user: string,
  server = '',
): Promise<ServerHash | undefined> {
  const h = await redis.hgetall(keys.server(user, server))
  if (!h.state) return undefined
  return { ...h, state: h.state as ServerHash['state'], spawner: h.spawner ? JSON.parse(h.spawner) : undefined }
}

export interface Harness {
  /** The first proxy's address. */
  url: string
  dir: string
  configFile: string
  /** What was written to configFile. */
  settings: Record<string, any>
  prefix: string
  hubPorts: number[]
  proxyPorts: number[]
  hubUrls: string[]
  proxyUrls: string[]
  hubs: Array<Part | undefined>
  proxies: Array<Part | undefined>
  redis?: RedisServer
  sentinel?: SentinelGroup
  /** A connection to the stack's Redis, logged in as the hub: for reading and seeding state with `keys`. */
  state: Redis
  keys: KeyNames
  /** The proxy tables, written as the hub writes them (the change stream included). */
  tables: ProxyTables
  /** The stack's hub id (Redis), which marks its users' servers. */
  hubId(): Promise<string>
  /** A server's record as docs/redis-schema.md describes it (`P server:<name>/<server>`); undefined when there is none. */
  serverRecord(user: string, server?: string): Promise<ServerHash | undefined>
  /** Every server record of a user (the names in `P servers:<name>`, sorted), with `name` added. */
  serverRecords(user: string): Promise<Array<ServerHash & { name: string }>>
  /** The progress events of a server's last spawn (`P progress:<name>/<server>`, a stream), oldest first. */
  progress(user: string, server?: string): Promise<Array<Record<string, unknown>>>
  /** The servers counted as active (`P active-servers`). */
  activeServers(): Promise<Array<{ user: string; name: string }>>
  /** A cookie-signing key (`P proxy:keys`): the current one (`P cookie-keys:current`) unless kid names another. */
  cookieKey(kid?: string): Promise<{ kid: string; secret: string } | undefined>
  /**
   * Starts hub i (on port, default its own) without waiting for it to answer. settings: config keys
   * over the stack's for this hub alone (its own config file, as a replica given another config).
   */
  spawnHub(i: number, port?: number, settings?: Record<string, unknown>): Part
  /** Starts hub i and waits until it answers GET /hub/health. */
  startHub(i: number, opts?: { port?: number; settings?: Record<string, unknown> }): Promise<Part>
  /** SIGKILL (default) or a graceful SIGTERM; waits for the exit. */
  killHub(i: number, signal?: NodeJS.Signals): Promise<void>
  signalHub(i: number, signal: NodeJS.Signals): void
  hubAlive(i: number): boolean
  startProxy(i: number, opts?: { hubUpstreams?: string[]; port?: number }): Promise<Part>
  /** SIGKILL to `edgehub proxy` and to its nginx (master and workers) at once. */
  killProxy(i: number): Promise<void>
  /** SIGTERM to `edgehub proxy`, which stops nginx gracefully. */
  stopProxy(i: number): Promise<void>
  /** The nginx master of proxy i (what serves; its workers are its children), as `edgehub proxy` records it. */
  nginxPid(i: number): number | undefined
  /** SIGTERM to Redis (AOF flushed), then the same Redis again; onExited runs once the old one is gone. */
  restartRedis(onExited?: () => void): Promise<void>
  /** Stops every user's server and managed service of this stack by its mark. */
  stopServers(): Promise<void>
  stop(): Promise<void>
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, any> {
  const out = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    out[k] =
      b && v && typeof b === 'object' && typeof v === 'object' && !Array.isArray(b) && !Array.isArray(v)
        ? { ...(b as object), ...(v as object) }
        : v
  }
  return out
}

async function waitHealthy(what: string, url: string, child: Child, timeoutMs: number, log: string): Promise<void> {
  await Promise.race([
    exitFails(child, `${what}: the process exited (${log})`, log),
    waitFor(
      what,
      async () => {
        const res = await fetch(url).catch(() => null)
        await res?.body?.cancel()
        return res?.ok
      },
      { timeoutMs, intervalMs: 50 },
    ),
  ])
}

/** Rejects when child exits (naming the end of its log); never settles otherwise. */
function exitFails(child: Child, what: string, log: string): Promise<never> {
  const failed = child.exited.then((code) => {
    throw new Error(`${what} with code ${code}: ${tail(log)}`)
  })
  failed.catch(() => {}) // handled by the race it is given to
  return failed
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ')
  } catch {
    return ''
  }
}

/** The harness's connection to the stack's Redis, logged in as the config's redis settings log the hub in. */
function stateConnection(r: Record<string, any>, to: SentinelGroup | string): Redis {
  const options = { maxRetriesPerRequest: 3, connectionName: STATE_CONNECTION }
  if (typeof to === 'string') return new Redis(to, options)
  const sentinel = to
  const login = r.url ? new URL(r.url) : undefined
  return new Redis({
    sentinels: sentinel.sentinelHosts,
    name: sentinel.masterName,
    sentinelUsername: r.sentinel?.username,
    sentinelPassword: r.sentinel?.password,
    username: login?.username ? decodeURIComponent(login.username) : undefined,
    password: login?.password ? decodeURIComponent(login.password) : undefined,
    ...options,
  })
}

const alive = (c: Child) => c.proc.exitCode === null && c.proc.signalCode === null

/**
 * Writes the config and starts Redis, the hubs and the proxies through the CLI. Defaults for tests:
 * fast polls, a cheap password hash, one nginx worker, warn-level logs.
 */
export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const nHubs = opts.hubs ?? 1
  const nProxies = opts.proxies ?? 1
  const mode = opts.redis ?? 'acl'
  const timeoutMs = opts.startTimeoutMs ?? 60_000
  const ownDir = !opts.dir
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'edgehub-test-'))
  mkdirSync(dir, { recursive: true })
  const ports = await Promise.all(Array.from({ length: nHubs + nProxies }, () => freePort()))
  const hubPorts = ports.slice(0, nHubs)
  const requestedPort = opts.settings?.port
  const proxyPorts = ports.slice(nHubs)
  if (typeof requestedPort === 'number' && nProxies > 0) proxyPorts[0] = requestedPort // a test may need it first
  const requestedHubPort = (opts.settings?.hub as Record<string, unknown> | undefined)?.port
  if (typeof requestedHubPort === 'number' && nHubs > 0) hubPorts[0] = requestedHubPort // e.g. publicUrl naming a hub
  const prefix =
    ((opts.settings?.redis as Record<string, unknown> | undefined)?.prefix as string | undefined) ?? 'edgehub:'

  let redis: RedisServer | undefined
  let sentinel: SentinelGroup | undefined
  const redisSettings: Record<string, unknown> = {}
  // every hub replica behind each proxy (none yet: the default, hub.port, until a proxy is given its own)
  const proxySettings: Record<string, unknown> = {
    workers: 1,
    ...(hubPorts.length ? { hubUpstreams: hubPorts.map((p) => `127.0.0.1:${p}`) } : {}),
  }
  if (mode === 'sentinel') {
    sentinel = opts.sentinelGroup ?? (await startSentinelGroup({ dir: join(dir, 'sentinel') }))
    redisSettings.sentinel = {
      hosts: sentinel.sentinelHosts.map((s) => `${s.host}:${s.port}`),
      masterName: sentinel.masterName,
    }
  } else {
    redis = await startRedisServer({ dir: join(dir, 'redis'), acl: mode === 'acl' ? { prefix } : undefined })
    redisSettings.url = redis.url
    if (redis.credentials) proxySettings.redis = redis.credentials.proxy
  }

  const forTests = opts.defaults !== 'product'
  const defaults: Record<string, unknown> = {
    dataDir: dir,
    port: proxyPorts[0] ?? (await freePort()),
    logLevel: 'warn',
    hub: {
      port: hubPorts[0] ?? (await freePort()),
      ...(forTests ? { pollIntervalSec: 1, slowSpawnTimeoutSec: 5 } : {}),
    },
    redis: redisSettings,
    proxy: proxySettings,
    ...(forTests ? { auth: { native: { scryptCost: 1024 } } } : {}),
  }
  const settings = merge(defaults, opts.settings ?? {})
  if (opts.settings?.redis) settings.redis = { ...redisSettings, ...(opts.settings.redis as object) }
  // a hub running as root makes a Unix account per user: this stack's own, removed when it stops
  const accountPrefix = ownAccountPrefix(settings)
  const configFile = join(dir, 'edgehub.yaml')
  writeFileSync(configFile, stringify(settings))

  const state = stateConnection(settings.redis, sentinel ?? redis!.url)
  state.on('error', () => {}) // a test that stops Redis sees the failures where it asks
  const keys = keyNames(prefix)
  const tables = new ProxyTables(state, prefix)

  const hubs: Array<Part | undefined> = []
  const proxies: Array<Part | undefined> = []
  const hubUrls = hubPorts.map((p) => `http://127.0.0.1:${p}`)
  const proxyUrls = proxyPorts.map((p) => `http://127.0.0.1:${p}`)
  const single = opts.layout === 'single'
  const hubLog = (i: number) => join(dir, single ? 'hub.log' : `hub${i}.log`)
  const proxyLog = (i: number) => join(dir, single ? 'proxy.log' : `proxy${i}.log`)
  const runDirOf = (i: number) => join(dir, single ? 'proxy' : `proxy${i}`)

  let stopping = false
  const refuseWhenStopping = (what: string) => {
    if (stopping) throw new Error(`${what}: the stack is being stopped`)
  }

  const nginxPid = (runDir: string): number | undefined => {
    try {
      const parts = JSON.parse(readFileSync(join(runDir, 'stack.pids'), 'utf8')) as Array<{ part: string; pid: number }>
      return parts.find((p) => p.part === 'nginx')?.pid
    } catch {
      return undefined
    }
  }

  // every `edgehub hub` and `edgehub proxy` process started, whatever became of its Part: stop() ends them all
  const started: Record<'hub' | 'proxy', Child[]> = { hub: [], proxy: [] }
  /** Starts `edgehub <kind>` as part i (refused while part i runs: a restart stops it first). */
  const launch = (
    parts: Array<Part | undefined>,
    kind: 'hub' | 'proxy',
    i: number,
    port: number,
    spec: { args: string[]; env: Record<string, string>; log: string },
  ): Part => {
    refuseWhenStopping(`${kind} ${i}`)
    const running = parts[i]
    if (running?.alive())
      throw new Error(`${kind} ${i} is running (pid ${running.pid}): stop it before starting it again`)
    const child = startChild({
      name: `${kind}${i}`,
      command: process.execPath,
      args: spec.args,
      env: cleanEnv({ ...spec.env, ...runMark() }),
      cwd: dir,
      logFile: spec.log,
    })
    started[kind].push(child)
    const part: Part = {
      index: i,
      port,
      url: `http://127.0.0.1:${port}`,
      child,
      pid: child.proc.pid!,
      alive: () => alive(child),
    }
    parts[i] = part
    return part
  }

  const h: Harness = {
    url: proxyUrls[0] ?? hubUrls[0],
    dir,
    configFile,
    settings,
    prefix,
    hubPorts,
    proxyPorts,
    hubUrls,
    proxyUrls,
    hubs,
    proxies,
    redis,
    sentinel,
    state,
    keys,
    tables,
    async hubId() {
      return (await state.get(keys.hubId)) ?? ''
    },
    serverRecord: (user, server = '') => readServerRecord(state, keys, user, server),
    async serverRecords(user) {
      const names = (await state.smembers(keys.userServers(user))).sort()
      const recs = await Promise.all(names.map(async (name) => ({ name, rec: await h.serverRecord(user, name) })))
      return recs.flatMap(({ name, rec }) => (rec ? [{ ...rec, name }] : []))
    },
    async progress(user, server = '') {
      const entries = await state.xrange(keys.progress(user, server), '-', '+')
      return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('e') + 1]) as Record<string, unknown>)
    },
    async activeServers() {
      return (await state.smembers(keys.runningServers)).map((r) => {
        const i = r.indexOf('/')
        return { user: r.slice(0, i), name: r.slice(i + 1) }
      })
    },
    async cookieKey(kid) {
      const id = kid ?? (await state.get(keys.currentCookieKey))
      const entry = id ? await tables.get<{ secret: string }>('keys', id) : undefined
      return id && entry ? { kid: id, secret: entry.secret } : undefined
    },
    spawnHub(i, port = hubPorts[i], over) {
      if (port === undefined) throw new Error(`hub ${i}: no port (the stack has ${nHubs} hubs; give one)`)
      let config = configFile
      if (over) {
        config = join(dir, `edgehub-hub${i}.yaml`)
        writeFileSync(config, stringify(merge(settings, over)))
      }
      return launch(hubs, 'hub', i, port, {
        args: [...(opts.hubNodeArgs ?? []), BIN, 'hub', '--config', config],
        env: { EDGEHUB_HUB_PORT: String(port) },
        log: hubLog(i),
      })
    },
    async startHub(i, o = {}) {
      const part = h.spawnHub(i, o.port, o.settings)
      await waitHealthy(`hub ${i}`, `${part.url}/hub/health`, part.child, timeoutMs, hubLog(i))
      return part
    },
    async killHub(i, signal = 'SIGKILL') {
      const part = hubs[i]
      if (!part?.alive()) return
      if (signal === 'SIGTERM') return part.child.stop()
      part.child.proc.kill(signal)
      await part.child.exited
    },
    signalHub(i, signal) {
      hubs[i]?.child.proc.kill(signal)
    },
    hubAlive: (i) => !!hubs[i]?.alive(),
    async startProxy(i, o = {}) {
      const port = o.port ?? proxyPorts[i] ?? (await freePort())
      const runDir = runDirOf(i)
      const part = launch(proxies, 'proxy', i, port, {
        args: [BIN, 'proxy', '--config', configFile],
        env: {
          EDGEHUB_PORT: String(port),
          EDGEHUB_PROXY_RUN_DIR: runDir,
          ...(o.hubUpstreams ? { EDGEHUB_PROXY_HUB_UPSTREAMS: o.hubUpstreams.join(',') } : {}),
        },
        log: proxyLog(i),
      })
      await waitHealthy(`proxy ${i}`, `${part.url}${HEALTH_PATH}`, part.child, timeoutMs, proxyLog(i))
      // `edgehub proxy` records its nginx once it serves: what killProxy and CPU figures need
      await waitFor(`proxy ${i} to record its nginx`, () => nginxPid(runDir), { timeoutMs: 10_000, intervalMs: 20 })
      return part
    },
    async killProxy(i) {
      const part = proxies[i]
      if (!part) return
      const nginx = nginxPid(runDirOf(i))
      part.child.proc.kill('SIGKILL')
      if (nginx) await killGroup(nginx)
      await part.child.exited
      proxies[i] = undefined
    },
    nginxPid: (i) => nginxPid(runDirOf(i)),
    async stopProxy(i) {
      await proxies[i]?.child.stop(10_000)
      proxies[i] = undefined
    },
    async restartRedis(onExited) {
      if (!redis) throw new Error('restartRedis: this stack runs Sentinel')
      await redis.stop()
      onExited?.()
      redis = await startRedisServer({
        dir: redis.dir,
        port: redis.port,
        acl: mode === 'acl' ? { prefix } : undefined,
      })
      h.redis = redis
    },
    async stopServers() {
      const id = await h.hubId().catch(() => '')
      if (id) await stopMarkedProcesses(id)
    },
    async stop() {
      stopping = true
      stackStopped(h)
      const id = await h.hubId().catch(() => '')
      // every hub and proxy this stack started, restarted ones and those a test let go of included
      await Promise.all(started.hub.map((c) => c.stop().catch(() => {})))
      if (id) await stopMarkedProcesses(id)
      await Promise.all(started.proxy.map((c) => c.stop(10_000).catch(() => {})))
      state.disconnect()
      await redis?.stop()
      if (!opts.sentinelGroup) await sentinel?.stop()
      removeStackAccounts(accountPrefix)
      if (ownDir && !process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
    },
  }

  stackStarted(h) // stopped when the test file ends, should its caller never get it
  try {
    // the hubs one by one (the first names the stack and becomes the leader); the proxies meanwhile
    // (they sync from Redis and need no hub to start)
    const hubsStarted = (async () => {
      for (let i = 0; i < nHubs; i++) await h.startHub(i)
    })()
    // the first failure stops everything at once (a caller's timeout must not leave processes behind)
    await Promise.all([hubsStarted, ...Array.from({ length: nProxies }, (_, i) => h.startProxy(i))])
  } catch (err) {
    await h.stop()
    throw err
  }
  return h
}
