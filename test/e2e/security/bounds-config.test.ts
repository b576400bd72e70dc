// Every number in the configuration that becomes a time or a size has a range, and `edgehub config
// check` refuses a value outside it with one line naming the key; the defaults pass.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { BIN } from '../../support/stack'

const dir = mkdtempSync(join(tmpdir(), 'edgehub-bounds-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** `edgehub config check` on a file holding `settings`: exit status and output. */
function check(
  name: string,
  settings: Record<string, unknown>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const file = join(dir, `${name}.yaml`)
  writeFileSync(file, stringify({ dataDir: join(dir, 'data'), ...settings }))
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))
  const child = spawn(process.execPath, [BIN, 'config', 'check', '--config', file], { env })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (b) => (stdout += b))
  child.stderr.on('data', (b) => (stderr += b))
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })))
}

/** [key, a value past its bound] */
const OUT_OF_RANGE: Array<[string, unknown]> = [
  ['sessions.maxAgeSec', 40_000_000],
  ['sessions.keyRotationSec', 1e308],
  ['proxy.workers', 100_000],
  ['proxy.sharedDictSize', '999999m'],
  ['proxy.activityFlushSec', 1e9],
  ['hub.tokenExpiresInMaxSec', 1e308],
  ['hub.slowSpawnTimeoutSec', 1e9],
  ['hub.pollIntervalSec', 86_400],
  ['hub.serverLockLeaseSec', 1e9],
  ['hub.concurrentSpawnLimit', 1e9],
  ['hub.namedServerLimitPerUser', 1e6],
  ['redis.streamMaxLen', 1e12],
  ['redis.waitSec', 3600],
  ['auth.native.scryptCost', 2 ** 24],
  ['auth.native.minPasswordLength', 100_000],
  ['culler.timeoutSec', 1e12],
  ['culler.everySec', 1e9],
  ['culler.maxAgeSec', 1e12],
  ['spawner.startTimeoutSec', 1e9],
  ['spawner.httpTimeoutSec', 1e9],
  ['spawner.stopGraceSec', 1e9],
  ['oidc.keyRotationDays', 1e6],
  ['oidc.accessTokenTtlSec', 1e12],
  ['oidc.idTokenTtlSec', 1e12],
  ['oidc.refreshTokenTtlSec', 1e12],
  ['auth.throttle.maxDelaySec', 1e9],
  ['auth.throttle.lockoutSec', 1e12],
  ['auth.throttle.forgetAfterSec', 1e12],
  ['auth.throttle.freeFailures', 1e6],
  ['auth.throttle.addressFreeFailures', 1e9],
]

/** { a: { b: v } } from "a.b" */
function nested(key: string, value: unknown): Record<string, unknown> {
  return key.split('.').reduceRight<unknown>((v, k) => ({ [k]: v }), value) as Record<string, unknown>
}

describe('edgehub config check', () => {
  it('passes the defaults', async () => {
    const r = await check('defaults', {})
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('configuration OK')
  })

  it('passes values at the top of each range', async () => {
    const r = await check('edges', {
      sessions: { maxAgeSec: 400 * 86400, keyRotationSec: 400 * 86400 },
      proxy: { workers: 64, sharedDictSize: '4096m' },
      hub: { tokenExpiresInMaxSec: 315_360_000 },
      auth: { native: { scryptCost: 131072 } },
    })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  // one test for all of them, each value in a file of its own, three runs at a time (a run costs about a second)
  it('refuses each value past its range with a line naming its key, and only that key', async () => {
    const results: Array<Awaited<ReturnType<typeof check>>> = []
    for (let i = 0; i < OUT_OF_RANGE.length; i += 3) {
      const batch = OUT_OF_RANGE.slice(i, i + 3)
      results.push(...(await Promise.all(batch.map(([key, value]) => check(key, nested(key, value))))))
    }
    OUT_OF_RANGE.forEach(([key, value], i) => {
      const r = results[i]
      expect(r.status, `${key}: ${value}`).not.toBe(0)
      const lines = r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('  '))
      expect(lines.length, `${key}: ${r.stderr}`).toBeGreaterThan(0)
      for (const l of lines) expect(l).toMatch(new RegExp(`^  ${key.replace(/\./g, '\\.')}: `))
    })
  }, 180_000)

  it('refuses a cookie-key rotation that would keep more than 1000 keys', async () => {
    const r = await check('rotation', { sessions: { maxAgeSec: 30 * 86400, keyRotationSec: 60 } })
    expect(r.status).not.toBe(0)
    expect(r.stderr).toContain('sessions.keyRotationSec: keeps more than 1000 cookie-signing keys')
  })
})
