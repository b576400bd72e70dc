// A stack of cleanup steps, run last-in first-out once; bench/run.ts runs it on exit and on Ctrl-C.

export class Cleanups {
  private readonly steps: Array<() => unknown> = []

  /** Registers a step; returns the step so it can be run early with `run(step)`. */
  push<T extends () => unknown>(step: T): T {
    this.steps.push(step)
    return step
  }

  /** Runs one registered step now (and forgets it). */
  async run(step: () => unknown): Promise<void> {
    const i = this.steps.lastIndexOf(step)
    if (i >= 0) this.steps.splice(i, 1)
    await Promise.resolve().then(step)
  }

  /** Runs every step, newest first; a failing step is reported and the rest still run. */
  async runAll(): Promise<void> {
    while (this.steps.length) {
      const step = this.steps.pop()!
      await Promise.resolve()
        .then(step)
        .catch((err) => console.error(`cleanup: ${err instanceof Error ? err.message : err}`))
    }
  }
}
