// The server's log file is closed to other users (0600), but only a regular file of its own: a log
// path that is a device (a test's /dev/null) keeps its mode. Changing /dev/null's would break every
// other program of the machine.
import { afterAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalProcessSpawner } from './index'
import { waitFor } from '../../../runtime/src/wait'
import { isRoot, removeAccounts, testPrefix } from '../../../test/support/accounts'

const dir = mkdtempSync(join(tmpdir(), 'edgehub-logfile-'))
const prefix = testPrefix()
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
  if (isRoot) expect(removeAccounts(prefix)).toEqual([])
})

const spawner = createLocalProcessSpawner({
  command: ['sh', '-c', 'echo started'],
  args: [],
  notebookDir: dir,
  env: {},
  ip: '127.0.0.1',
  portRange: [20000, 20010],
  dataDir: dir,
  userPrefix: prefix,
  log: { info() {}, warn() {} },
})

const start = (user: string, logFile: string) =>
  spawner.start(
    { user, server: '', baseUrl: `/user/${user}/`, env: {}, options: {}, logFile, progress: () => {} },
    AbortSignal.timeout(20_000),
  )

describe('local-process log files', () => {
  it('closes a regular log file to others', async () => {
    const log = join(dir, 'a.log')
    writeFileSync(log, '', { mode: 0o644 })
    const state = await start('logfa', log)
    await waitFor('the server to exit', async () => (await spawner.poll(state)).phase === 'stopped')
    expect(statSync(log).mode & 0o777).toBe(0o600)
  })

  it.skipIf(!isRoot)("leaves a device's mode alone (a null device of the test's own, made with mknod)", async () => {
    const device = join(dir, 'null')
    execFileSync('mknod', ['-m', '666', device, 'c', '1', '3'])
    const state = await start('logfb', device)
    await waitFor('the server to exit', async () => (await spawner.poll(state)).phase === 'stopped')
    expect(statSync(device).mode & 0o777).toBe(0o666)
  })
})
