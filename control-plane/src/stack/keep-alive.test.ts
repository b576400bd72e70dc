// KeptAlive with real processes: restarted at once after a kill, with growing waits while it keeps
// dying young, and no restart once stopped.
import { afterEach, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KeptAlive, backoffMs } from './keep-alive'
import { groupMembers, startChild } from '../../../runtime/src/child'
import { createLogger } from '../../../runtime/src/log'
import { waitFor } from '../../../runtime/src/wait'

const dir = mkdtempSync(join(tmpdir(), 'edgehub-keep-alive-'))
const parts: KeptAlive[] = []
afterEach(async () => {
  await Promise.all(parts.splice(0).map((p) => p.stop()))
})
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

function part(args: string[], lines: string[]) {
  const log = createLogger('test', { write: (l) => lines.push(l) > 0 })
  const p = new KeptAlive(
    'sleeper',
    async () => {
      const c = startChild({
        name: 'sleeper',
        command: 'sh',
        args: ['-c', ...args],
        logFile: join(dir, 'log'),
        ownGroup: true,
      })
      return { pid: c.proc.pid!, exited: c.exited, stop: (ms) => c.stop(ms) }
    },
    log,
  )
  parts.push(p)
  return p
}

describe('KeptAlive', () => {
  it('waits 0, 0.5, 1, 2 … 30 s after consecutive quick exits', () => {
    expect([0, 1, 2, 3, 4, 7, 8, 20].map(backoffMs)).toEqual([0, 500, 1000, 2000, 4000, 30_000, 30_000, 30_000])
  })

  it('restarts a killed process at once, its whole group gone first', async () => {
    const lines: string[] = []
    const p = part(['sleep 30 & sleep 30'], lines)
    await p.begin()
    const first = p.pid!
    await waitFor('the background sleep', () => groupMembers(first).length >= 2)
    process.kill(first, 'SIGKILL') // the shell's own child (the first sleep) is killed with its group
    const second = await waitFor('a new process', () => (p.pid && p.pid !== first ? p.pid : undefined), {
      timeoutMs: 5000,
    })
    expect(second).not.toBe(first)
    expect(groupMembers(first)).toEqual([])
    expect(lines.some((l) => l.includes('"msg":"sleeper exited; restarting"') && l.includes('"in_ms":0'))).toBe(true)
    await p.stop()
    expect(() => process.kill(second, 0)).toThrow()
  })

  it('stops what a first start brings up after a stop came in meanwhile', async () => {
    const log = createLogger('test', { write: () => true })
    let started: ReturnType<typeof startChild> | undefined
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const p = new KeptAlive(
      'slow',
      async () => {
        await gate // the start is still under way when stop() comes in
        started = startChild({
          name: 'slow',
          command: 'sleep',
          args: ['30'],
          logFile: join(dir, 'log'),
          ownGroup: true,
        })
        return { pid: started.proc.pid!, exited: started.exited, stop: (ms) => started!.stop(ms) }
      },
      log,
    )
    const begun = p.begin().then(
      () => 'began',
      (err: Error) => err.message,
    )
    const stopped = p.stop()
    release()
    await stopped
    expect(await begun).toBe('slow was stopped while it started')
    expect(started!.proc.exitCode !== null || started!.proc.signalCode !== null).toBe(true) // stopped by the time stop() returned
    expect(p.pid).toBeUndefined()
  })

  it('backs off while it keeps dying young, and stops restarting once stopped', async () => {
    const lines: string[] = []
    const p = part(['exit 3'], lines)
    await p.begin()
    await waitFor('three exits', () => lines.filter((l) => l.includes('exited; restarting')).length >= 3, {
      timeoutMs: 5000,
    })
    const waits = lines.filter((l) => l.includes('exited; restarting')).map((l) => JSON.parse(l).in_ms)
    expect(waits.slice(0, 3)).toEqual([0, 500, 1000])
    await p.stop()
    const after = lines.length
    await new Promise((r) => setTimeout(r, 1200)) // longer than the next wait: nothing may happen
    expect(lines.length).toBe(after)
  })
})
