// A private redis-server for the one-machine stack and for tests: loopback only, AOF on, data in dir.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { startChild, type Child } from './child'
import { waitFor } from '../util/wait'

export interface RedisProcessOptions {
  dir: string
  port: number
  bind?: string
  appendonly?: boolean
  command?: string
}

export interface RedisProcess {
  child: Child
  url: string
  port: number
  stop(): Promise<void>
}

export async function startRedis(opts: RedisProcessOptions): Promise<RedisProcess> {
  mkdirSync(opts.dir, { recursive: true })
  const conf = join(opts.dir, 'redis.conf')
  const bind = opts.bind ?? '127.0.0.1'
  writeFileSync(
    conf,
    [
      `bind ${bind}`,
      'protected-mode yes',
      `port ${opts.port}`,
      `dir ${opts.dir}`,
      `appendonly ${opts.appendonly === false ? 'no' : 'yes'}`,
      'appendfsync everysec',
      'save ""',
      'daemonize no',
      'loglevel warning',
      '',
    ].join('\n'),
  )
  const child = startChild({
    name: 'redis',
    command: opts.command ?? 'redis-server',
    args: [conf],
    logFile: join(opts.dir, 'redis.log'),
  })
  const url = `redis://${bind}:${opts.port}`
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  probe.on('error', () => {}) // refused until redis listens; waitFor reports the outcome
  try {
    await waitFor(
      `redis on port ${opts.port}`,
      async () => {
        if (child.proc.exitCode !== null) throw new Error(`redis-server exited (see ${opts.dir}/redis.log)`)
        try {
          if (probe.status !== 'ready') await probe.connect()
          return (await probe.ping()) === 'PONG'
        } catch {
          probe.disconnect()
          return false
        }
      },
      { timeoutMs: 15_000 },
    )
  } finally {
    probe.disconnect()
  }
  return { child, url, port: opts.port, stop: () => child.stop() }
}
