// The one-machine stack for a test: Redis with the hub's and the proxy's ACL log-ins (as `edgehub up`
// runs it), one `edgehub hub` and one `edgehub proxy`, from a written config file (harness.ts). The
// test talks to it through HTTP and reads or seeds state through `state` (Redis, logged in as the
// hub) with `keys`.
import type { Child } from '../../runtime/src/child'
import { startHarness, type Harness } from './harness'

export { BIN, ROOT } from './harness'

export interface Stack extends Omit<Harness, 'startHub' | 'killHub'> {
  /** The hub process: the one running now (after a restart, the new one). */
  readonly hub: Child
  /** Starts the hub again (after killHub or hub.stop()) and waits until it answers. */
  startHub(): Promise<void>
  /** SIGKILL (default) or another signal to the hub; waits for its exit. */
  killHub(signal?: NodeJS.Signals): Promise<void>
}

/**
 * Config file keys over the test defaults; `hub: { allowNamedServers: true }` adds to the hub
 * defaults (its port stays), as do proxy and auth; other keys replace.
 */
export async function startStack(settings: Record<string, unknown> = {}): Promise<Stack> {
  const h = await startHarness({ settings, layout: 'single' })
  const startHub = h.startHub
  const stack = Object.assign(h, {
    async startHub() {
      await startHub(0)
    },
    async killHub(signal: NodeJS.Signals = 'SIGKILL') {
      const hub = h.hubs[0]
      if (!hub?.alive()) return
      hub.child.proc.kill(signal)
      await hub.child.exited
    },
  })
  // a getter, read at each use (Object.assign would copy the first hub's Child once)
  Object.defineProperty(stack, 'hub', { get: () => h.hubs[0]!.child, enumerable: true })
  return stack as unknown as Stack
}
