// One part of the one-machine stack (Redis, the proxy, the hub) kept running: started again whenever
// it exits, at once the first time, then after waits that double while it keeps dying young.
import type { Logger } from '../../../runtime/src/log'

export interface RunningPart {
  pid: number
  /** Resolves when the process has exited. */
  exited: Promise<unknown>
  /** SIGTERM, SIGKILL after graceMs (each part has its default). */
  stop(graceMs?: number): Promise<void>
}

/** A run at least this long resets the backoff: the next exit restarts at once again. */
export const HEALTHY_RUN_MS = 10_000
/** Waits between starts after repeated quick exits: 0.5 s, 1 s, 2 s … up to 30 s. */
export const FIRST_BACKOFF_MS = 500
export const MAX_BACKOFF_MS = 30_000

/** The wait before a start that follows `failures` consecutive quick exits (or failed starts). */
export function backoffMs(failures: number): number {
  return failures <= 0 ? 0 : Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (failures - 1))
}

export class KeptAlive {
  private current?: RunningPart
  private starting?: Promise<unknown>
  private timer?: NodeJS.Timeout
  private abort = new AbortController()
  private failures = 0
  private stopped = false

  /** start() must stop what it started when the signal aborts (a stop during a start). */
  constructor(
    readonly name: string,
    private readonly start: (signal: AbortSignal) => Promise<RunningPart>,
    private readonly log: Logger,
  ) {}

  get pid(): number | undefined {
    return this.current?.pid
  }

  /**
   * The first start; throws when it fails (the stack does not come up). A stop() meanwhile waits for
   * it, and what it started is stopped at once.
   */
  async begin(): Promise<void> {
    const begun = this.start(this.abort.signal).then(async (part) => {
      if (!this.stopped) return part
      await part.stop()
      throw new Error(`${this.name} was stopped while it started`)
    })
    this.starting = begun.finally(() => (this.starting = undefined))
    this.watch(await begun, Date.now())
  }

  /** Called each time a process of this part is running (the first start and every restart). */
  onRunning?: () => void

  private watch(part: RunningPart, startedAt: number): void {
    this.current = part
    this.onRunning?.()
    void part.exited.then((code) => {
      if (this.stopped || this.current !== part) return
      this.current = undefined
      const ranMs = Date.now() - startedAt
      if (ranMs >= HEALTHY_RUN_MS) this.failures = 0
      const wait = backoffMs(this.failures)
      this.failures++
      this.log.warn(`${this.name} exited; restarting`, { pid: part.pid, code, ran_ms: ranMs, in_ms: wait })
      this.schedule(wait)
    })
  }

  private schedule(waitMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (this.stopped) return
      const startedAt = Date.now()
      this.starting = this.start(this.abort.signal)
        .then(
          (part) => {
            if (this.stopped) return part.stop()
            this.log.info(`${this.name} restarted`, { pid: part.pid, took_ms: Date.now() - startedAt })
            this.watch(part, startedAt)
          },
          (err: Error) => {
            if (this.stopped) return
            const wait = backoffMs(this.failures)
            this.failures++
            this.log.warn(`${this.name} failed to start; retrying`, { err: err.message, in_ms: wait })
            this.schedule(wait)
          },
        )
        .finally(() => (this.starting = undefined))
    }, waitMs)
  }

  /** No more restarts; stops the running process (a start in progress is given up). */
  async stop(graceMs?: number): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    this.abort.abort(new Error(`${this.name} is being stopped`))
    await this.starting?.catch(() => {})
    await this.current?.stop(graceMs)
  }
}
