// Test harness for the edge proxy: real Redis, real nginx, and tiny Node HTTP + WebSocket servers
// standing in for a single-user server and for the hub.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { WebSocketServer } from 'ws'
import { newKeySecret, newSessionId, signCookie, ProxyTables } from '../../control-plane/src/protocol'
import { startRedisServer, type RedisServer } from '../support/harness'
import { freePort } from '../../runtime/src/ports'
import { startProxy, type ProxyProcess, type ProxyProcessOptions } from '../../proxy/src/nginx-process'

export const PREFIX = 'edgehub:'

export interface Seen {
  server: string
  method: string
  url: string
  headers: IncomingHttpHeaders
}

export interface FakeServer {
  name: string
  port: number
  /** "127.0.0.1:<port>", as a route target. */
  target: string
  /** Requests and WebSocket upgrades seen, oldest first. */
  seen: Seen[]
  close(): Promise<void>
}

/** An HTTP server that answers every request with JSON describing it, and echoes WebSocket messages. */
export async function startFakeServer(name: string, port?: number): Promise<FakeServer> {
  const seen: Seen[] = []
  const server: Server = createServer((req, res) => {
    const s: Seen = { server: name, method: req.method ?? '', url: req.url ?? '', headers: req.headers }
    seen.push(s)
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(s))
    })
  })
  const wss = new WebSocketServer({ server })
  wss.on('connection', (ws, req) => {
    seen.push({ server: name, method: 'WS', url: req.url ?? '', headers: req.headers })
    ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `${name}:${data.toString()}`))
  })
  const p = port ?? (await freePort())
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(p, '127.0.0.1', () => resolve())
  })
  return {
    name,
    port: p,
    target: `127.0.0.1:${p}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
  json<T = any>(): T
}

/** One HTTP request without redirects, keep-alive or header restrictions. */
export function http(
  url: string,
  opts: { method?: string; headers?: Record<string, string | string[]>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) })
      })
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${url}`)))
    req.end(opts.body)
  })
}

export interface Stack {
  dir: string
  redisPort: number
  redis: RedisServer | null
  client: Redis
  tables: ProxyTables
  proxy: ProxyProcess
  hub: FakeServer
  /** The current cookie signing key. */
  kid: string
  secret: string
  cookie(user: string, opts?: { kid?: string; secret?: string; exp?: number; sid?: string }): string
  startRedis(): Promise<RedisServer>
  stopRedis(): Promise<void>
  stop(): Promise<void>
}

export interface StackOptions {
  /** Start Redis after the proxy (false) or before it (true, default). */
  redisFirst?: boolean
  proxy?: Partial<ProxyProcessOptions>
}

/** Redis + the proxy + a fake hub; a signing key "k1" is written when Redis starts first. */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'edgehub-proxy-test-'))
  const redisPort = await freePort()
  const hub = await startFakeServer('hub')
  const cleanup: (() => Promise<void>)[] = [() => hub.close()]
  let redis: RedisServer | null = null
  const client = new Redis(`redis://127.0.0.1:${redisPort}`, {
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    retryStrategy: () => 100,
  })
  client.on('error', () => {}) // refused while a test has Redis down; commands still reject
  const tables = new ProxyTables(client, PREFIX)
  const kid = 'k1'
  const secret = newKeySecret()

  const stack: Partial<Stack> = {
    dir,
    redisPort,
    client,
    tables,
    hub,
    kid,
    secret,
    get redis() {
      return redis
    },
    cookie(user, o = {}) {
      return signCookie(
        {
          kid: o.kid ?? kid,
          user,
          sid: o.sid ?? newSessionId(),
          exp: o.exp ?? Math.floor(Date.now() / 1000) + 3600,
        },
        o.secret ?? secret,
      )
    },
    async startRedis() {
      redis = await startRedisServer({ dir: join(dir, 'redis'), port: redisPort })
      if (client.status === 'wait') await client.connect()
      return redis
    },
    async stopRedis() {
      await redis?.stop()
      redis = null
    },
  }
  try {
    if (opts.redisFirst !== false) {
      await stack.startRedis!()
      await tables.set('keys', kid, { secret, created: Math.floor(Date.now() / 1000) })
    }
    const proxyPort = await freePort()
    stack.proxy = await startProxy({
      listen: { host: '127.0.0.1', port: proxyPort },
      hubUpstreams: [hub.target],
      redis: { host: '127.0.0.1', port: redisPort },
      prefix: PREFIX,
      runDir: join(dir, 'nginx'),
      workerProcesses: 2,
      syncBlockMs: 1000,
      ...opts.proxy,
    })
  } catch (err) {
    await stopAll()
    throw err
  }

  async function stopAll() {
    await stack.proxy?.stop()
    for (const c of cleanup.reverse()) await c()
    client.disconnect()
    await redis?.stop()
    if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
  }
  stack.stop = stopAll
  return stack as Stack
}

/** A route value as the hub writes it. */
export function userRoute(user: string, target: string, token: string, server = '') {
  return { kind: 'user', target, user, server, token }
}
