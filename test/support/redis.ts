// A private redis-server for one test file; with acl, as `edgehub up` runs it: only the hub's and the
// proxy's ACL users log in (client is the hub's), no default user.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis, type RedisOptions } from 'ioredis'
import { startRedisServer } from './harness'
import { privateRedisDir, readRedisCredentials } from '../../control-plane/src/protocol'
import { freePort } from '../../runtime/src/ports'

export async function testRedis(opts: { acl?: boolean; prefix?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edgehub-redis-'))
  const port = await freePort()
  const proc = await startRedisServer({
    dir,
    port,
    appendonly: false,
    acl: opts.acl ? { prefix: opts.prefix ?? 'edgehub:' } : undefined,
  })
  const client = new Redis(proc.url)
  return {
    /** With acl, carries the hub's log-in. */
    url: proc.url,
    port,
    client,
    credentials: proc.credentials,
    async stop() {
      client.disconnect()
      await proc.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * A connection to the private Redis of the `edgehub up` stack in dataDir, logged in as its hub (the
 * credentials edgehub up keeps in dataDir/redis; none when the stack predates them).
 */
export function stackRedis(dataDir: string, port: number, opts: RedisOptions = {}): Redis {
  const hub = readRedisCredentials(privateRedisDir(dataDir))?.hub
  return new Redis({ host: '127.0.0.1', port, username: hub?.username, password: hub?.password, ...opts })
}
