// The stacks the harness has started in this process and not yet stopped. A test whose hook timed
// out while its stack was still starting never gets the stack to stop it: the setup file
// stop-stacks.ts stops what is left here when each test file ends (benchmarks stop theirs by their
// cleanups).
const live = new Set<{ stop(): Promise<void> }>()

export function stackStarted(stack: { stop(): Promise<void> }): void {
  live.add(stack)
}

export function stackStopped(stack: { stop(): Promise<void> }): void {
  live.delete(stack)
}

/** Stops every stack still live; how many there were. */
export async function stopLiveStacks(): Promise<number> {
  const left = [...live]
  await Promise.all(left.map((s) => s.stop().catch(() => {})))
  return left.length
}
