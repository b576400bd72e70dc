// RedisAvailability.guard against a real redis-server that dies under a waiting command.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { startRedisServer } from '../../../test/support/harness'
import { freePort } from '../../../runtime/src/ports'
import { RedisAvailability } from './redis-gate'

describe('RedisAvailability.guard', () => {
  it('fails a request waiting on Redis when Redis goes away for longer than the wait', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgehub-guard-'))
    const redis = await startRedisServer({ dir, port: await freePort() })
    const conn = new Redis(redis.url, { maxRetriesPerRequest: 50, retryStrategy: () => 100 })
    conn.on('error', () => {})
    try {
      await conn.ping()
      const availability = new RedisAvailability(conn, 300)
      const blocked = conn.blpop('never-pushed', 0) // waits on Redis until it dies
      const t0 = performance.now()
      const guarded = availability.guard(blocked).then(
        () => 'answered',
        (err: Error) => err.message,
      )
      redis.child.proc.kill('SIGKILL')
      expect(await guarded).toContain('cannot reach its database')
      expect(performance.now() - t0).toBeGreaterThanOrEqual(290)
      expect(performance.now() - t0).toBeLessThan(1500)
      blocked.catch(() => {})
    } finally {
      conn.disconnect()
      await redis.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
