import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { pickPort } from './ports'
import { canBind } from '../../../runtime/src/ports'

const listening: Server[] = []
const occupy = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(port, '127.0.0.1', () => (listening.push(srv), resolve()))
  })
afterEach(async () => {
  await Promise.all(listening.splice(0).map((s) => new Promise((r) => s.close(r))))
})

/** A run of `n` ports that can all be bound now, below the ephemeral range. */
async function freeRun(n: number): Promise<number> {
  for (let lo = 21000 + Math.floor(Math.random() * 10000); ; lo += n) {
    const ok = await Promise.all(Array.from({ length: n }, (_, i) => canBind('127.0.0.1', lo + i)))
    if (ok.every(Boolean)) return lo
  }
}

describe('local-process pickPort', () => {
  it('returns a port inside the range and reserves it', async () => {
    const lo = await freeRun(10)
    const reserved = new Set<number>()
    const port = await pickPort('127.0.0.1', [lo, lo + 9], reserved)
    expect(port).toBeGreaterThanOrEqual(lo)
    expect(port).toBeLessThanOrEqual(lo + 9)
    expect(reserved.has(port)).toBe(true)
  })

  it('skips ports that are reserved or already bound', async () => {
    const lo = await freeRun(3)
    await occupy(lo)
    const reserved = new Set([lo + 1])
    expect(await pickPort('127.0.0.1', [lo, lo + 2], reserved)).toBe(lo + 2)
  })

  it('names the setting when every port of the range is taken', async () => {
    const lo = await freeRun(2)
    await occupy(lo)
    await expect(pickPort('127.0.0.1', [lo, lo + 1], new Set([lo + 1]))).rejects.toThrow(
      /spawner\.local-process\.portRange/,
    )
  })
})
