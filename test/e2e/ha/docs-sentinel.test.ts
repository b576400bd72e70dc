// docs/high-availability.md, "Redis and Sentinel, step by step", followed as written: the blocks it
// marks `docs-test` (Redis's lines, the replica's line, sentinel.conf, the check commands) are run
// on loopback with every documented address mapped to a free port and the password replaced, one
// master, one replica and three sentinels in a temp dir. Every process is a child of this one,
// stopped by pid.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startChild, type Child } from '../../../control-plane/src/stack/child'
import { freePort } from '../../../control-plane/src/util/ports'
import { waitFor } from '../../../control-plane/src/util/wait'
import { ROOT } from '../../support/stack'

const run = promisify(execFile)
const DOC = readFileSync(join(ROOT, 'docs/high-availability.md'), 'utf8')

/** The fenced blocks marked `docs-test` (optionally `docs-test=NAME`), in document order. */
function markedBlocks(doc: string): { lang: string; name: string; text: string }[] {
  return [...doc.matchAll(/^```(\w+) docs-test(?:=(\S+))?\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], name: m[2] ?? '', text: m[3] }))
}

function block(name: string): string {
  const found = markedBlocks(DOC).filter((b) => b.name === name)
  if (found.length !== 1) throw new Error(`docs/high-availability.md: expected one block marked docs-test=${name}, found ${found.length}`)
  return found[0].text
}

// The documented machines: Redis master 10.0.0.5, replica 10.0.0.6, sentinels on 10.0.0.5-7.
const REDIS_HOSTS = ['10.0.0.5', '10.0.0.6']
const SENTINEL_HOSTS = ['10.0.0.5', '10.0.0.6', '10.0.0.7']

describe('docs/high-availability.md: Redis and Sentinel step by step', () => {
  const password = randomBytes(12).toString('hex')
  let dir: string
  let redisPorts: number[]
  let sentinelPorts: number[]
  const children: Child[] = []

  /** Documented "HOST PORT" / "HOST:PORT" / "-h HOST -p PORT" addresses -> this test's loopback ones. */
  const portOf = (host: string, port: string): number => {
    const i = port === '26379' ? SENTINEL_HOSTS.indexOf(host) : REDIS_HOSTS.indexOf(host)
    if (i < 0) throw new Error(`the doc names ${host}:${port}, which is none of its machines`)
    return port === '26379' ? sentinelPorts[i] : redisPorts[i]
  }
  const common = (text: string) => text.replaceAll('PASSWORD', password)
  /** A config block for the node listening on (documented) port `own` of machine `host`. */
  const nodeConfig = (text: string, ownPort: number) =>
    common(text)
      .replace(/^bind .*$/m, 'bind 127.0.0.1')
      .replace(/^port \d+$/m, `port ${ownPort}`)
      .replace(/(10\.0\.0\.\d+) (6379)\b/g, (_, h: string, p: string) => `127.0.0.1 ${portOf(h, p)}`)
  const command = (line: string) => common(line).replace(/-h (10\.0\.0\.\d+) -p (\d+)/g, (_, h: string, p: string) => `-h 127.0.0.1 -p ${portOf(h, p)}`)
  const sh = async (line: string) => (await run('bash', ['-c', line], { timeout: 5000 })).stdout.trim()

  const checks = () => markedBlocks(DOC).filter((b) => b.lang === 'sh').flatMap((b) => b.text.split('\n').filter((l) => l.trim() && !l.startsWith('#')))
  const checkLine = (what: RegExp) => {
    const line = checks().find((l) => what.test(l))
    if (!line) throw new Error(`docs/high-availability.md: no docs-test command matching ${what}`)
    return command(line)
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgehub-docs-sentinel-'))
    redisPorts = [await freePort(), await freePort()]
    sentinelPorts = [await freePort(), await freePort(), await freePort()]
    const start = (name: string, conf: string, sentinel: boolean) => {
      const d = join(dir, name)
      mkdirSync(d)
      const file = join(d, sentinel ? 'sentinel.conf' : 'redis.conf')
      writeFileSync(file, `dir ${d}\ndaemonize no\n${conf}`, { mode: 0o600 })
      children.push(startChild({ name, command: 'redis-server', args: sentinel ? [file, '--sentinel'] : [file], logFile: join(d, 'log') }))
    }
    start('master', nodeConfig(block('redis'), redisPorts[0]), false)
    start('replica', nodeConfig(block('redis') + block('replica'), redisPorts[1]), false)
    for (let i = 0; i < 3; i++) start(`sentinel${i}`, nodeConfig(block('sentinel'), sentinelPorts[i]), true)
  })

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop(2000)))
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('the configured nodes take the password, keep an AOF, and the replica follows the master', async () => {
    const replication = checkLine(/INFO replication/)
    expect(replication).toContain(`-p ${redisPorts[1]}`)
    await waitFor('the replica to follow the master', async () => (await sh(replication)) === 'master_link_status:up', { timeoutMs: 20_000 })
    // without the password the master refuses; with it, AOF is on
    await expect(sh(`redis-cli -h 127.0.0.1 -p ${redisPorts[0]} PING`)).resolves.toMatch(/NOAUTH/)
    expect(await sh(`REDISCLI_AUTH=${password} redis-cli -h 127.0.0.1 -p ${redisPorts[0]} CONFIG GET appendonly`)).toBe('appendonly\nyes')
  })

  it('the sentinels name the master, reach their quorum, and fail over to the replica', async () => {
    const masterAddr = checkLine(/get-master-addr-by-name/)
    const ckquorum = checkLine(/ckquorum/)
    await waitFor('the sentinels to name the master', async () => (await sh(masterAddr)) === `127.0.0.1\n${redisPorts[0]}`, { timeoutMs: 20_000 })
    await waitFor('the three sentinels to know each other', async () => /^OK 3 usable Sentinels/.test(await sh(ckquorum).catch(() => '')), { timeoutMs: 20_000 })

    const killedAt = Date.now()
    children[0].proc.kill('SIGKILL')
    await children[0].exited
    await waitFor('the sentinels to name the replica', async () => (await sh(masterAddr)) === `127.0.0.1\n${redisPorts[1]}`, { timeoutMs: 10_000, intervalMs: 100 })
    const failoverMs = Date.now() - killedAt
    // the doc's arithmetic: down-after-milliseconds plus the election and the hubs' reconnection
    // (up to 1 s) fits in redis.waitSec's 6 s default under Sentinel
    const downAfter = Number(/down-after-milliseconds \S+ (\d+)/.exec(block('sentinel'))![1])
    expect(failoverMs).toBeGreaterThanOrEqual(downAfter)
    expect(failoverMs + 1000).toBeLessThan(6000)
    expect(await sh(`REDISCLI_AUTH=${password} redis-cli -h 127.0.0.1 -p ${redisPorts[1]} ROLE`)).toMatch(/^master/)
  })
})
