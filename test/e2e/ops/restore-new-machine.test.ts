// `edgehub restore` on a new machine: a data directory with nothing in it and the private Redis of
// `edgehub up` not running. The restore starts that Redis with the backup's log-ins, fills it and
// stops it again; the data is there at the next start.
import { afterAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { BIN, ROOT } from '../../support/stack'
import { canBind, freePort } from '../../../runtime/src/ports'

const FIXTURE = join(ROOT, 'test/fixtures/upgrade-0.1.0/data.backup')
const dir = mkdtempSync(join(tmpdir(), 'edgehub-newmachine-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function edgehub(config: string, args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))
  const r = spawnSync(process.execPath, [BIN, ...args, '--config', config], { encoding: 'utf8', env, timeout: 120_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe('edgehub restore with the stack stopped', () => {
  it("starts the private Redis with the backup's log-ins, restores, and stops it", async () => {
    const port = await freePort()
    const dataDir = join(dir, 'data')
    const config = join(dir, 'edgehub.yaml')
    writeFileSync(config, `dataDir: ${dataDir}\nredis:\n  port: ${port}\n`)
    const backup = JSON.parse(gunzipSync(readFileSync(FIXTURE)).toString('utf8'))

    const first = edgehub(config, ['restore', FIXTURE])
    expect(first.err).toBe('')
    expect(first.code).toBe(0)
    expect(first.out).toMatch(/restored 39 Redis keys/)
    expect(first.out).toContain(`wrote the Redis log-ins into ${join(dataDir, 'redis')}`)
    const creds = join(dataDir, 'redis', 'credentials.json')
    expect(readFileSync(creds, 'utf8')).toBe(backup.files['redis/credentials.json'])
    expect(statSync(creds).mode & 0o777).toBe(0o600)
    const hubId = backup.keys.find((k: { key: string }) => k.key === 'hub-id').data[0]
    expect(readFileSync(join(dataDir, 'stack-id'), 'utf8').trim()).toBe(hubId)
    expect(existsSync(join(dataDir, 'restored-edgehub.yaml'))).toBe(true)
    // nothing left running on the port
    expect(await canBind('127.0.0.1', port)).toBe(true)

    // started again for a second restore, the Redis has kept what the first one wrote
    const second = edgehub(config, ['restore', FIXTURE])
    expect(second.code).not.toBe(0)
    expect(second.err).toMatch(/Redis holds \d+ keys under "edgehub:"/)
    expect(await canBind('127.0.0.1', port)).toBe(true)
  })
})
