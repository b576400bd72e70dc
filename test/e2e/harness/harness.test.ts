// The harness itself: whatever hubs and proxies a test starts, restarts or lets go of, stop() ends
// them all, and the run's end check (leftovers.ts) finds a marked hub left running.
import { afterAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { leftoverParts, RUN_MARK } from '../../support/leftovers'

/** Live `edgehub hub`/`edgehub proxy` processes of this run whose config file is the stack's. */
const partsOf = (s: Stack) =>
  leftoverParts(process.env[RUN_MARK]!).filter((p) => p.command.includes(`--config ${s.configFile}`))

let stack: Stack | undefined
afterAll(async () => stack?.stop(), 60_000)

describe('the harness', () => {
  it('carries the run mark (the globalSetup gives it)', () => {
    expect(process.env[RUN_MARK]).toMatch(/^\d+-[0-9a-f]{8}$/)
  })

  it('stops every hub it started, a restarted one included; stack.hub is the running one', async () => {
    stack = await startStack()
    const first = stack.hub
    expect(
      partsOf(stack)
        .map((p) => p.pid)
        .sort(),
    ).toEqual([first.proc.pid, stack.proxies[0]!.pid].sort())
    await stack.hub.stop()
    await stack.startHub()
    const second = stack.hub
    expect(second.proc.pid).not.toBe(first.proc.pid)
    expect(second.proc.exitCode).toBeNull()
    // the second restart stops the hub now running, not the first one again
    await stack.hub.stop()
    expect(second.proc.exitCode ?? second.proc.signalCode).not.toBeNull()
    await stack.startHub()
    expect(partsOf(stack)).toHaveLength(2) // the newest hub and the proxy
    // a hub started again while it runs is refused (it would be left running untracked)
    expect(() => stack!.spawnHub(0)).toThrow(/hub 0 is running/)
    const s = stack
    stack = undefined
    await s.stop()
    expect(partsOf(s)).toEqual([])
  }, 120_000)
})
