// docs/high-availability.md, "Redis and Sentinel, step by step", followed as written: the blocks it
// marks `docs-test` (Redis's lines, the replica's line, sentinel.conf, the check commands) are run
// on loopback with every documented address mapped to a free port and the password replaced, one
// master, one replica and three sentinels in a temp dir. Every process is a child of this one,
// stopped by pid.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../../runtime/src/wait'
import { sh, startSentinelGroup, waitForFailover, type SentinelGroup } from './docs-blocks'

describe('docs/high-availability.md: Redis and Sentinel step by step', () => {
  let dir: string
  let group: SentinelGroup
  let password: string
  let redisPorts: number[]
  let children: SentinelGroup['children']
  const checkLine = (what: RegExp) => group.checkLine(what)

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgehub-docs-sentinel-'))
    group = await startSentinelGroup(dir)
    ;({ password, redisPorts, children } = group)
  })

  afterAll(async () => {
    await group?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('the configured nodes take the password, keep an AOF, and the replica follows the master', async () => {
    const replication = checkLine(/INFO replication/)
    expect(replication).toContain(`-p ${redisPorts[1]}`)
    await waitFor('the replica to follow the master', async () => (await sh(replication)) === 'master_link_status:up', {
      timeoutMs: 20_000,
    })
    // without the password the master refuses; with it, AOF is on
    await expect(sh(`redis-cli -h 127.0.0.1 -p ${redisPorts[0]} PING`)).resolves.toMatch(/NOAUTH/)
    expect(await sh(`REDISCLI_AUTH=${password} redis-cli -h 127.0.0.1 -p ${redisPorts[0]} CONFIG GET appendonly`)).toBe(
      'appendonly\nyes',
    )
  })

  it('the sentinels name the master, reach their quorum, and fail over to the replica', async () => {
    const masterAddr = checkLine(/get-master-addr-by-name/)
    const ckquorum = checkLine(/ckquorum/)
    await waitFor(
      'the sentinels to name the master',
      async () => (await sh(masterAddr)) === `127.0.0.1\n${redisPorts[0]}`,
      { timeoutMs: 20_000 },
    )
    await waitFor(
      'the three sentinels to know each other',
      async () => /^OK 3 usable Sentinels/.test(await sh(ckquorum).catch(() => '')),
      { timeoutMs: 20_000 },
    )

    const killedAt = Date.now()
    children[0].proc.kill('SIGKILL')
    await children[0].exited
    // as the doc says: down-after-milliseconds plus the election; when an election splits its
    // votes, Sentinel tries again 2 x failover-timeout later (its own rule), and that can split too.
    // The bound asserted is the one for the number of elections the sentinels' logs show.
    const { failoverMs, elections, downAfter, retryMs } = await waitForFailover(group, dir, killedAt)
    expect(failoverMs).toBeGreaterThanOrEqual(downAfter)
    console.log(
      `Sentinel failover: ${failoverMs} ms, ${elections} election${elections > 1 ? 's (the earlier ones split their votes)' : ''}`,
    )
    // one election: with the hubs' reconnection (up to 1 s) it fits in redis.waitSec's 6 s default
    if (elections === 1) expect(failoverMs + 1000).toBeLessThan(6000)
    // each retry: 2 x failover-timeout after the try before (plus Sentinel's own desync of up to
    // 1 s), then the election and the promotion (about 1.3 s, more on a busy machine)
    else expect(failoverMs).toBeLessThan(downAfter + (elections - 1) * (retryMs + 1000) + 8000)
    expect(await sh(`REDISCLI_AUTH=${password} redis-cli -h 127.0.0.1 -p ${redisPorts[1]} ROLE`)).toMatch(/^master/)
  }, 120_000)
})
