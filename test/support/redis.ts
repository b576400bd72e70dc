// A private redis-server for one test file.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { startRedis } from '../../control-plane/src/stack/redis-process'
import { freePort } from '../../control-plane/src/util/ports'

export async function testRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'edgehub-redis-'))
  const port = await freePort()
  const proc = await startRedis({ dir, port, appendonly: false })
  const client = new Redis(proc.url)
  return {
    url: proc.url,
    port,
    client,
    async stop() {
      client.disconnect()
      await proc.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
