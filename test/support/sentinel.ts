// A Redis Sentinel group on loopback for tests: one master, one replica (both with AOF, like
// control-plane/src/stack/redis-process.ts) and three sentinels (quorum 2). Every process is a
// child of this one, stopped by pid; nodes can be killed and started again for fault tests.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { startChild, type Child } from '../../runtime/src/child'
import { freePort } from '../../runtime/src/ports'
import { waitFor } from '../../runtime/src/wait'

export interface Addr {
  host: string
  port: number
}

/** One redis-server or sentinel process slot: same port, dir and config across restarts. */
export interface GroupProcess extends Addr {
  name: string
  dir: string
  /** The current process (a new one after start()). */
  child: Child
  alive(): boolean
  /** Sends signal (default SIGKILL) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts the process again after kill/stop (a restarted old master rejoins as a replica once the sentinels see it). */
  start(): Promise<void>
  /** SIGTERM, SIGKILL after graceMs; a no-op when not running. */
  stop(graceMs?: number): Promise<void>
}

export interface RedisNode extends GroupProcess {
  /** redis://127.0.0.1:<port> (no password in it). */
  url: string
}

export interface SentinelGroupOptions {
  /** Every process gets a subdirectory here (configs, AOF, logs). */
  dir: string
  /** Default 'edgehub-master'. */
  masterName?: string
  /** requirepass and masterauth of the data nodes (the sentinels get it as auth-pass). */
  password?: string
  /** requirepass of the sentinels. */
  sentinelPassword?: string
  /** Default 3. */
  sentinels?: number
  /** Default 2. */
  quorum?: number
  /** Default 1000. */
  downAfterMs?: number
  /** Default 5000. */
  failoverTimeoutMs?: number
  /** How long to wait for the group to be ready (replica synced, sentinels know each other); default 30 s. */
  readyTimeoutMs?: number
}

export interface SentinelGroup {
  masterName: string
  password?: string
  sentinelPassword?: string
  /** The sentinels' down-after-milliseconds: how long the master must not answer before a failover. */
  downAfterMs: number
  /** The node that was the master at start (it stays this object after a failover). */
  master: RedisNode
  /** The node that was the replica at start. */
  replica: RedisNode
  /** [master, replica] */
  nodes: RedisNode[]
  sentinels: GroupProcess[]
  /** Addresses of the sentinels, as the proxy's redis.sentinel.hosts wants them. */
  sentinelHosts: Addr[]
  /** The master most answering sentinels name; throws when none answers. */
  currentMaster(): Promise<Addr>
  /** The data node at addr. */
  nodeAt(addr: Addr): RedisNode | undefined
  /** Waits until every running sentinel names a master other than `from`, and ROLE there says master. */
  waitForFailover(from: Addr, timeoutMs?: number): Promise<Addr>
  /** SIGKILLs the current master and returns its address. */
  killMaster(): Promise<Addr>
  /** `SENTINEL FAILOVER` on one sentinel (a switch without a fault); returns the old master. */
  failover(): Promise<Addr>
  /** A new ioredis client for a data node (password set, connection errors not logged); the caller disconnects it. */
  client(addr: Addr): Redis
  /** ROLE of the data node at addr ('master', 'slave'), or null when it does not answer. */
  role(addr: Addr): Promise<string | null>
  /** Stops every process this group started (sentinels first), by pid. */
  stop(): Promise<void>
}

const HOST = '127.0.0.1'
const same = (a: Addr, b: Addr) => a.host === b.host && a.port === b.port

/** One command on a short-lived connection; null when the server does not answer. */
async function call(addr: Addr, password: string | undefined, ...args: (string | number)[]): Promise<unknown> {
  const c = new Redis({
    host: addr.host,
    port: addr.port,
    password,
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  })
  c.on('error', () => {})
  try {
    await c.connect()
    return await c.call(String(args[0]), ...args.slice(1).map(String))
  } catch {
    return null
  } finally {
    c.disconnect()
  }
}

/** [k1, v1, k2, v2, ...] -> { k1: v1, ... } */
function pairs(flat: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (Array.isArray(flat)) for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1])
  return out
}

/** A process slot, started; `ready` waits until it answers PING (with its password). */
function processSlot(name: string, dir: string, port: number, args: string[], password?: string) {
  const started: Child[] = []
  const spawnIt = () => {
    const child = startChild({ name, command: 'redis-server', args, logFile: join(dir, 'log') })
    started.push(child)
    return child
  }
  const ready = () =>
    waitFor(
      `${name} on port ${port}`,
      async () => {
        if (!slot.alive()) throw new Error(`${name} exited (see ${join(dir, 'log')})`)
        return (await call(slot, password, 'PING')) === 'PONG'
      },
      { timeoutMs: 15_000 },
    )
  const slot: GroupProcess = {
    name,
    dir,
    host: HOST,
    port,
    child: spawnIt(),
    alive: () => slot.child.proc.exitCode === null && slot.child.proc.signalCode === null,
    async kill(signal = 'SIGKILL') {
      if (!slot.alive()) return
      slot.child.proc.kill(signal)
      await slot.child.exited
    },
    async start() {
      if (slot.alive()) throw new Error(`${name} is already running`)
      slot.child = spawnIt()
      await ready()
    },
    async stop(graceMs = 3000) {
      // every process this slot ever started, in case one outlived its successor's start
      for (const c of started) await c.stop(graceMs)
    },
  }
  return { slot, ready }
}

function redisConf(port: number, dir: string, password: string | undefined, replicaOf?: number): string {
  return [
    `bind ${HOST}`,
    'protected-mode yes',
    `port ${port}`,
    `dir ${dir}`,
    'appendonly yes',
    'appendfsync everysec',
    'save ""',
    'daemonize no',
    'loglevel notice',
    ...(password ? [`requirepass "${password}"`, `masterauth "${password}"`] : []),
    ...(replicaOf ? [`replicaof ${HOST} ${replicaOf}`] : []),
    '',
  ].join('\n')
}

function sentinelConf(
  port: number,
  dir: string,
  o: Required<Pick<SentinelGroupOptions, 'quorum' | 'downAfterMs' | 'failoverTimeoutMs'>> & SentinelGroupOptions,
  masterName: string,
  masterPort: number,
): string {
  return [
    `bind ${HOST}`,
    `port ${port}`,
    `dir ${dir}`,
    'daemonize no',
    'loglevel notice',
    `sentinel monitor ${masterName} ${HOST} ${masterPort} ${o.quorum}`,
    `sentinel down-after-milliseconds ${masterName} ${o.downAfterMs}`,
    `sentinel failover-timeout ${masterName} ${o.failoverTimeoutMs}`,
    `sentinel parallel-syncs ${masterName} 1`,
    ...(o.password ? [`sentinel auth-pass ${masterName} "${o.password}"`] : []),
    ...(o.sentinelPassword ? [`requirepass "${o.sentinelPassword}"`] : []),
    '',
  ].join('\n')
}

function checkSecret(what: string, s: string | undefined) {
  if (s !== undefined && !/^[A-Za-z0-9._~!@#%^&*+=-]+$/.test(s))
    throw new TypeError(`${what}: use a password without spaces or quotes`)
}

export async function startSentinelGroup(opts: SentinelGroupOptions): Promise<SentinelGroup> {
  const o = { quorum: 2, downAfterMs: 1000, failoverTimeoutMs: 5000, sentinels: 3, ...opts }
  const masterName = opts.masterName ?? 'edgehub-master'
  if (!/^[A-Za-z0-9._-]+$/.test(masterName)) throw new TypeError(`masterName: ${JSON.stringify(masterName)}`)
  checkSecret('password', o.password)
  checkSecret('sentinelPassword', o.sentinelPassword)
  const slots: GroupProcess[] = []

  const node = async (name: string, replicaOf?: number): Promise<RedisNode> => {
    const dir = join(opts.dir, name)
    mkdirSync(dir, { recursive: true })
    const port = await freePort()
    writeFileSync(join(dir, 'redis.conf'), redisConf(port, dir, o.password, replicaOf))
    const { slot, ready } = processSlot(name, dir, port, [join(dir, 'redis.conf')], o.password)
    const n = Object.assign(slot, { url: `redis://${HOST}:${port}` })
    slots.push(n)
    await ready()
    return n
  }

  let group: SentinelGroup
  try {
    const master = await node('redis-a')
    const replica = await node('redis-b', master.port)
    const sentinels: GroupProcess[] = []
    const waits: Promise<unknown>[] = []
    for (let i = 0; i < o.sentinels; i++) {
      const dir = join(opts.dir, `sentinel-${i + 1}`)
      mkdirSync(dir, { recursive: true })
      const port = await freePort()
      const conf = join(dir, 'sentinel.conf')
      writeFileSync(conf, sentinelConf(port, dir, o, masterName, master.port))
      const { slot, ready } = processSlot(`sentinel-${i + 1}`, dir, port, [conf, '--sentinel'], o.sentinelPassword)
      slots.push(slot)
      sentinels.push(slot)
      waits.push(ready())
    }
    await Promise.all(waits)

    const nodes = [master, replica]
    const sentinelCall = (s: Addr, ...args: (string | number)[]) => call(s, o.sentinelPassword, ...args)
    const masterAddr = async (s: Addr): Promise<Addr | null> => {
      const r = await sentinelCall(s, 'SENTINEL', 'get-master-addr-by-name', masterName)
      return Array.isArray(r) && r.length === 2 ? { host: String(r[0]), port: Number(r[1]) } : null
    }
    const role = async (addr: Addr) => {
      const r = await call(addr, o.password, 'ROLE')
      return Array.isArray(r) ? String(r[0]) : null
    }
    const running = () => sentinels.filter((s) => s.alive())

    group = {
      masterName,
      downAfterMs: o.downAfterMs,
      password: o.password,
      sentinelPassword: o.sentinelPassword,
      master,
      replica,
      nodes,
      sentinels,
      sentinelHosts: sentinels.map((s) => ({ host: s.host, port: s.port })),
      async currentMaster() {
        const answers = (await Promise.all(running().map(masterAddr))).filter((a): a is Addr => a !== null)
        if (answers.length === 0) throw new Error('no sentinel names a master')
        const votes = new Map<string, { addr: Addr; n: number }>()
        for (const a of answers) {
          const k = `${a.host}:${a.port}`
          votes.set(k, { addr: a, n: (votes.get(k)?.n ?? 0) + 1 })
        }
        return [...votes.values()].sort((a, b) => b.n - a.n)[0].addr
      },
      nodeAt: (addr) => nodes.find((n) => same(n, addr)),
      waitForFailover(from, timeoutMs = 30_000) {
        return waitFor(
          `a new master instead of ${from.host}:${from.port}`,
          async () => {
            const answers = await Promise.all(running().map(masterAddr))
            const a = answers[0]
            if (!a || same(a, from) || answers.some((b) => !b || !same(a, b))) return null
            return (await role(a)) === 'master' ? a : null
          },
          { timeoutMs, intervalMs: 100 },
        )
      },
      async killMaster() {
        const m = await group.currentMaster()
        const n = group.nodeAt(m)
        if (!n) throw new Error(`the master ${m.host}:${m.port} is not a node of this group`)
        await n.kill('SIGKILL')
        return m
      },
      async failover() {
        const m = await group.currentMaster()
        const s = running()[0]
        const r = await sentinelCall(s, 'SENTINEL', 'FAILOVER', masterName)
        if (r !== 'OK') throw new Error(`SENTINEL FAILOVER on ${s.name}: ${String(r)}`)
        return m
      },
      client(addr) {
        const c = new Redis({ host: addr.host, port: addr.port, password: o.password, maxRetriesPerRequest: 3 })
        c.on('error', () => {}) // a killed node refuses reconnects; commands still reject
        return c
      },
      role,
      async stop() {
        // sentinels first, so they do not start a failover while the data nodes go
        for (const s of [...sentinels, ...nodes]) await s.stop()
      },
    }

    await waitFor(
      'sentinel group ready (replica in sync, sentinels know the replica and each other)',
      async () => {
        const info = await call(replica, o.password, 'INFO', 'replication')
        if (typeof info !== 'string' || !/master_link_status:up/.test(info)) return false
        for (const s of sentinels) {
          const m = pairs(await sentinelCall(s, 'SENTINEL', 'master', masterName))
          if (m.flags !== 'master' || Number(m['num-slaves']) < 1 || Number(m['num-other-sentinels']) < o.sentinels - 1)
            return false
          const replicas = await sentinelCall(s, 'SENTINEL', 'replicas', masterName)
          const seen =
            Array.isArray(replicas) &&
            replicas.map(pairs).some((r) => Number(r.port) === replica.port && r.flags === 'slave')
          if (!seen) return false
        }
        return true
      },
      { timeoutMs: o.readyTimeoutMs ?? 30_000, intervalMs: 100 },
    )
  } catch (err) {
    for (const s of slots) await s.stop(1000)
    throw err
  }
  return group
}
