// The blocks of docs/high-availability.md marked `docs-test` (fenced with an info string such as
// `conf docs-test=redis` or `sh docs-test`), and the doc's Redis + Sentinel group started from them
// on loopback: every documented address mapped to a free port, PASSWORD replaced, each node a child
// process in a temp dir, stopped by pid.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startChild, type Child } from '../../../runtime/src/child'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'
import { ROOT } from '../../support/stack'

const run = promisify(execFile)
export const DOC = readFileSync(join(ROOT, 'docs/high-availability.md'), 'utf8')

/** The fenced blocks marked `docs-test` (optionally `docs-test=NAME`), in document order. */
export function markedBlocks(doc: string = DOC): { lang: string; name: string; text: string }[] {
  return [...doc.matchAll(/^```(\w+) docs-test(?:=(\S+))?\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1],
    name: m[2] ?? '',
    text: m[3],
  }))
}

export function block(name: string): string {
  const found = markedBlocks().filter((b) => b.name === name)
  if (found.length !== 1)
    throw new Error(`docs/high-availability.md: expected one block marked docs-test=${name}, found ${found.length}`)
  return found[0].text
}

/** The command lines (not comments) of a block's text. */
export const commandLines = (text: string): string[] =>
  text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'))

export const sh = async (line: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  (await run('bash', ['-c', line], { timeout: 5000, ...opts })).stdout.trim()

// The documented machines: Redis master 10.0.0.5, replica 10.0.0.6, sentinels on 10.0.0.5-7.
const REDIS_HOSTS = ['10.0.0.5', '10.0.0.6']
const SENTINEL_HOSTS = ['10.0.0.5', '10.0.0.6', '10.0.0.7']

export interface SentinelGroup {
  password: string
  redisPorts: number[]
  sentinelPorts: number[]
  /** master, replica, sentinel0-2 */
  children: Child[]
  /** A documented Redis/Sentinel HOST and PORT -> this group's loopback port. */
  portOf(host: string, port: string): number
  /** A documented `sh docs-test` line matching `what`, with its addresses and password mapped. */
  checkLine(what: RegExp): string
  stop(): Promise<void>
}

/** Starts the doc's master, replica and three sentinels from its `docs-test` blocks, under dir. */
export async function startSentinelGroup(dir: string): Promise<SentinelGroup> {
  const password = randomBytes(12).toString('hex')
  const redisPorts = [await freePort(), await freePort()]
  const sentinelPorts = [await freePort(), await freePort(), await freePort()]
  const children: Child[] = []
  const portOf = (host: string, port: string): number => {
    const i = port === '26379' ? SENTINEL_HOSTS.indexOf(host) : REDIS_HOSTS.indexOf(host)
    if (i < 0) throw new Error(`the doc names ${host}:${port}, which is none of its machines`)
    return port === '26379' ? sentinelPorts[i] : redisPorts[i]
  }
  const common = (text: string) => text.replaceAll('PASSWORD', password)
  /** A config block for the node listening on ownPort. */
  const nodeConfig = (text: string, ownPort: number) =>
    common(text)
      .replace(/^bind .*$/m, 'bind 127.0.0.1')
      .replace(/^port \d+$/m, `port ${ownPort}`)
      .replace(/(10\.0\.0\.\d+) (6379)\b/g, (_, h: string, p: string) => `127.0.0.1 ${portOf(h, p)}`)
  const command = (line: string) =>
    common(line).replace(/-h (10\.0\.0\.\d+) -p (\d+)/g, (_, h: string, p: string) => `-h 127.0.0.1 -p ${portOf(h, p)}`)
  const checkLine = (what: RegExp) => {
    const line = markedBlocks()
      .filter((b) => b.lang === 'sh')
      .flatMap((b) => commandLines(b.text))
      .find((l) => what.test(l))
    if (!line) throw new Error(`docs/high-availability.md: no docs-test command matching ${what}`)
    return command(line)
  }
  const start = (name: string, conf: string, sentinel: boolean) => {
    const d = join(dir, name)
    mkdirSync(d)
    const file = join(d, sentinel ? 'sentinel.conf' : 'redis.conf')
    writeFileSync(file, `dir ${d}\ndaemonize no\n${conf}`, { mode: 0o600 })
    children.push(
      startChild({
        name,
        command: 'redis-server',
        args: sentinel ? [file, '--sentinel'] : [file],
        logFile: join(d, 'log'),
      }),
    )
  }
  start('master', nodeConfig(block('redis'), redisPorts[0]), false)
  start('replica', nodeConfig(block('redis') + block('replica'), redisPorts[1]), false)
  for (let i = 0; i < 3; i++) start(`sentinel${i}`, nodeConfig(block('sentinel'), sentinelPorts[i]), true)
  return {
    password,
    redisPorts,
    sentinelPorts,
    children,
    portOf,
    checkLine,
    stop: async () => void (await Promise.all(children.map((c) => c.stop(2000)))),
  }
}

/**
 * After the group's master is killed: waits until the doc's check command names the replica, for
 * as long as Sentinel's own rules allow up to three elections (down-after-milliseconds, then, each
 * time an election splits its votes, another 2 x failover-timeout). Returns how long it took and how
 * many elections the sentinels' logs show (one epoch each); on a timeout the error carries the logs.
 */
export async function waitForFailover(
  group: SentinelGroup,
  dir: string,
  killedAt: number,
): Promise<{ failoverMs: number; elections: number; downAfter: number; retryMs: number }> {
  const setting = (name: string) => Number(new RegExp(`${name} \\S+ (\\d+)`).exec(block('sentinel'))![1])
  const downAfter = setting('down-after-milliseconds')
  const retryMs = 2 * setting('failover-timeout')
  const masterAddr = group.checkLine(/get-master-addr-by-name/)
  const logs = () => [0, 1, 2].map((k) => readFileSync(join(dir, `sentinel${k}`, 'log'), 'utf8')).join('\n')
  await waitFor(
    'the sentinels to name the replica',
    async () => (await sh(masterAddr)) === `127.0.0.1\n${group.redisPorts[1]}`,
    {
      timeoutMs: downAfter + 3 * retryMs + 5000,
      intervalMs: 100,
    },
  ).catch((e: Error) => {
    throw new Error(`${e.message}\nthe sentinels' logs:\n${logs()}`)
  })
  const failoverMs = Date.now() - killedAt
  const elections = Math.max(1, new Set([...logs().matchAll(/\+new-epoch (\d+)/g)].map((m) => m[1])).size)
  return { failoverMs, elections, downAfter, retryMs }
}
