// A steady mixed load for the fault suite: users working in their servers over HTTP and a kernel
// WebSocket, hub API reads, hub pages with sessions made before the fault, fresh logins, and
// spawn/stop cycles.
//
// The load is open: each kind of request is sent on its own schedule (every N ms), whether or not
// the previous one has been answered, so a stall cannot hold back the samples that would show it.
// Every request is recorded at the time it was sent, with its first try's outcome: a wrong answer,
// no answer, or an answer slower than CEILING_MS is a failure. Requests still in flight are capped
// per stream (what it sends in CEILING_MS); a tick that finds the cap reached sends nothing and is recorded as a failure ("not
// sent"). Hub requests whose first try failed are tried once more after 250 ms, as a browser reload
// would; that retry is recorded beside the first try, never instead of it.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Client } from '../support/client'
import { openKernel, type KernelSocket } from '../support/kernel'
import { delay } from '../../runtime/src/wait'

export type Kind = 'user-http' | 'user-ws' | 'hub-api' | 'hub-page' | 'login' | 'spawn'

/** An answer slower than this counts as a failure. */
export const CEILING_MS = 2000
/** Requests are abandoned after this (and counted failed, being over the ceiling). */
const GIVE_UP_MS = 10_000
const RETRY_AFTER_MS = 250

/** Every how many ms each stream sends one request (per worker, except logins). */
export const SCHEDULE: Record<Exclude<Kind, 'spawn'>, number> = {
  'user-http': 50,
  'user-ws': 200,
  'hub-api': 100,
  'hub-page': 200,
  login: 250,
}

export interface Outcome {
  kind: Kind
  /** When it was sent (or would have been, when not sent). */
  at: number
  /** The first try: the right answer within CEILING_MS. */
  ok: boolean
  /** First try's time to the answer (ms); for a login, its slowest request. */
  ms?: number
  /** Not sent: the stream's oldest request in flight was over the ceiling, or (kernel) no socket was open. */
  notSent?: boolean
  /** Hub requests: the first try failed and was retried once. */
  retried?: boolean
  /** ... and the retry gave the right answer within CEILING_MS. */
  retryOk?: boolean
  /** Kernel executions: whose socket. */
  who?: string
  detail?: string
}

export interface Worker {
  name: string
  token: string
  /** Logged in before the load started. */
  client: Client
  kernelId?: string
}

export interface LoadOptions {
  url: string
  wsUrl: string
  workers: Worker[]
  /** Users with no server at the start, spawned and stopped in a loop. */
  spawners: Array<{ name: string; token: string }>
  password: string
}

/** '' when the answer was right, else what was wrong; ms: time to the (slowest) answer. */
interface Attempt {
  error: string
  ms: number
}

const timeout = () => AbortSignal.timeout(GIVE_UP_MS)

/** Runs one try: its error ('' when right) and time to the answer, over the ceiling counting as an error. */
async function timed(send: () => Promise<string | Attempt>): Promise<Attempt> {
  const started = performance.now()
  let a: Attempt
  try {
    const r = await send()
    a = typeof r === 'string' ? { error: r, ms: Math.round(performance.now() - started) } : r
  } catch (err) {
    a = { error: (err as Error).message, ms: Math.round(performance.now() - started) }
  }
  if (!a.error && a.ms > CEILING_MS) a.error = `answered after ${a.ms} ms`
  return a
}

export class Load {
  readonly outcomes: Outcome[] = []
  private running = true
  private timers = new Set<NodeJS.Timeout>()
  private loops: Promise<void>[] = []
  /** Requests in flight, by the time they were sent. */
  private inFlight = new Set<{ at: number; done: Promise<unknown> }>()
  private sockets = new Map<string, KernelSocket>()
  private pace: Partial<Record<Kind, number>> = {}
  private reschedules: Array<() => void> = []
  /** This process's own event-loop delay: a load generator starved of CPU inflates every latency it measures. */
  private readonly lag = monitorEventLoopDelay({ resolution: 10 })
  wsDrops = 0

  constructor(private readonly o: LoadOptions) {}

  get workers(): Worker[] {
    return this.o.workers
  }

  start(): void {
    this.lag.enable()
    for (const w of this.o.workers) {
      const api = () =>
        fetch(`${this.o.url}/hub/api/users/${w.name}`, {
          headers: { authorization: `token ${w.token}` },
          signal: timeout(),
        })
      this.stream('user-http', () => this.userHttp(w))
      this.stream('hub-api', () => this.hub(async () => answer(await api(), (r) => r.ok)))
      this.stream('hub-page', () =>
        this.hub(async () =>
          answer(await w.client.request('/hub/home', { signal: timeout() }), (r) => r.status === 200),
        ),
      )
      if (w.kernelId) {
        this.loops.push(this.keepKernelSocket(w))
        this.stream('user-ws', () => this.execute(w), { who: w.name })
      }
    }
    this.stream('login', () => this.hub(() => this.login()))
    for (const s of this.o.spawners) this.loops.push(this.spawnLoop(s))
  }

  /** Sends the streams of `kinds` `factor` times as often from now on (1: the schedule). */
  setPace(factor: number, kinds: readonly Kind[]): void {
    for (const k of kinds) this.pace[k] = factor
    for (const r of this.reschedules) r()
  }

  private interval(kind: Exclude<Kind, 'spawn'>): number {
    return SCHEDULE[kind] / (this.pace[kind] ?? 1)
  }

  /** The longest the load generator's event loop was held up since the last call (ms). */
  generatorLagMs(): number {
    const ms = Math.round(this.lag.max / 1e6)
    this.lag.reset()
    return ms
  }

  async stop(): Promise<void> {
    this.running = false
    this.lag.disable()
    for (const t of this.timers) clearTimeout(t)
    for (const s of this.sockets.values()) s.close()
    await Promise.all([...this.loops, ...[...this.inFlight].map((r) => r.done)])
  }

  /** Outcomes of requests sent in [from, to] (ms timestamps). */
  between(from: number, to = Infinity): Outcome[] {
    return this.outcomes.filter((o) => o.at >= from && o.at <= to)
  }

  /** True once every request sent before `t` has its outcome recorded. */
  settledBefore(t: number): boolean {
    return [...this.inFlight].every((r) => r.at >= t)
  }

  /** Every worker's kernel socket has answered an execution sent at or after `since`. */
  kernelsAnsweredSince(since: number): boolean {
    return this.o.workers.every((w) =>
      this.outcomes.some((o) => o.kind === 'user-ws' && o.ok && o.who === w.name && o.at >= since),
    )
  }

  /**
   * Sends one request of `kind` every SCHEDULE[kind] ms (times the pace) without waiting for the
   * previous ones. Ticks the event loop could not keep are sent as soon as it can (each still
   * recorded at the time it was sent).
   */
  private stream(
    kind: Exclude<Kind, 'spawn'>,
    send: () => Promise<Omit<Outcome, 'kind' | 'at'>>,
    extra: Partial<Outcome> = {},
  ) {
    const mine = new Set<{ at: number }>() // in sending order: the first is the oldest
    let next = performance.now()
    const tick = () => {
      const at = Date.now()
      const oldest = mine.values().next().value
      if (oldest && at - oldest.at > CEILING_MS) {
        this.outcomes.push({
          kind,
          at,
          ok: false,
          notSent: true,
          detail: `not sent: a request sent ${at - oldest.at} ms ago is unanswered`,
          ...extra,
        })
        return
      }
      const entry = { at, done: Promise.resolve() as Promise<unknown> }
      entry.done = send()
        .catch((err: Error) => ({ ok: false, detail: err.message }))
        .then((r) => {
          this.outcomes.push({ kind, at, ...extra, ...r })
          mine.delete(entry)
          this.inFlight.delete(entry)
        })
      mine.add(entry)
      this.inFlight.add(entry)
    }
    let pending: NodeJS.Timeout | undefined
    const loop = () => {
      pending = undefined
      if (!this.running) return
      const now = performance.now()
      while (next <= now) {
        tick()
        next += this.interval(kind)
      }
      const t = setTimeout(() => {
        this.timers.delete(t)
        loop()
      }, next - now)
      this.timers.add(t)
      pending = t
    }
    // a new pace takes effect at once, not after the tick already planned
    this.reschedules.push(() => {
      if (!pending) return
      clearTimeout(pending)
      this.timers.delete(pending)
      next = Math.min(next, performance.now() + this.interval(kind))
      loop()
    })
    loop()
  }

  private async userHttp(w: Worker): Promise<Omit<Outcome, 'kind' | 'at'>> {
    const a = await timed(async () => {
      const res = await fetch(`${this.o.url}/user/${w.name}/api/status`, {
        headers: { authorization: `token ${w.token}` },
        signal: timeout(),
      })
      const body = await res.text()
      return res.status === 200 ? '' : `HTTP ${res.status} ${body.slice(0, 80)}`
    })
    return { ok: !a.error, ms: a.ms, ...(a.error ? { detail: a.error } : {}) }
  }

  /** A hub request; on failure, one retry after RETRY_AFTER_MS, recorded beside the first try. */
  private async hub(send: () => Promise<string | Attempt>): Promise<Omit<Outcome, 'kind' | 'at'>> {
    const first = await timed(send)
    if (!first.error) return { ok: true, ms: first.ms }
    await delay(RETRY_AFTER_MS)
    const second = await timed(send)
    return {
      ok: false,
      ms: first.ms,
      retried: true,
      retryOk: !second.error,
      detail: second.error ? `${first.error}; retry: ${second.error}` : first.error,
    }
  }

  /** The login page, then the form posted; right when it answers 302 with a session cookie. */
  private async login(): Promise<Attempt> {
    const w = this.o.workers[0]
    const c = new Client(this.o.url, (url, init) => fetch(url, { ...init, signal: timeout() }))
    const page = await timed(async () => {
      const res = await c.get('/hub/login')
      await res.text()
      return res.status === 200 ? '' : `login page: HTTP ${res.status}`
    })
    if (page.error) return page // (the ceiling applies to each of the two answers)
    const post = await timed(async () => {
      const res = await c.postForm('/hub/login', { username: w.name, password: this.o.password })
      await res.body?.cancel()
      return res.status === 302 && c.jar.has('edgehub-session') ? '' : `login: HTTP ${res.status}`
    })
    return { error: post.error, ms: Math.max(page.ms, post.ms) }
  }

  /** One kernel WebSocket per worker, reopened at once when it drops. */
  private async keepKernelSocket(w: Worker) {
    while (this.running) {
      let k: KernelSocket
      try {
        k = await openKernel(`${this.o.wsUrl}/user/${w.name}/api/kernels/${w.kernelId}/channels`, {
          authorization: `token ${w.token}`,
        })
      } catch {
        await delay(100) // the executions meanwhile are recorded as not sent
        continue
      }
      k.ws.setMaxListeners(0) // each execution in flight listens; the stream bounds how many there are
      this.sockets.set(w.name, k)
      await new Promise((resolve) => k.ws.once('close', resolve))
      this.sockets.delete(w.name)
      if (this.running) this.wsDrops++
    }
  }

  /** One cell executed on the worker's open socket; right when its result comes within the ceiling. */
  private async execute(w: Worker): Promise<Omit<Outcome, 'kind' | 'at'>> {
    const k = this.sockets.get(w.name)
    if (!k) return { ok: false, notSent: true, detail: 'not sent: kernel socket reopening' }
    const n = Math.floor(Math.random() * 1000)
    const a = await timed(async () => {
      let timer: NodeJS.Timeout | undefined
      const noReply = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          k.close() // a socket that stopped answering is reopened
          reject(new Error(`no reply in ${GIVE_UP_MS} ms`))
        }, GIVE_UP_MS)
      })
      try {
        const r = await Promise.race([k.execute(`${n}+1`), noReply])
        return r.result === String(n + 1) ? '' : `result ${r.result}`
      } finally {
        clearTimeout(timer)
      }
    })
    return { ok: !a.error, ms: a.ms, ...(a.error ? { detail: a.error } : {}) }
  }

  /**
   * Starts the user's server, waits until it is ready or has failed, stops it; a failed spawn must be
   * retriable. Outcome per cycle: ok (ran), ok+retried (failed cleanly, the retry ran), or not ok
   * (stuck pending, or the retry failed too). Recorded when the cycle ends.
   */
  private async spawnLoop(s: { name: string; token: string }) {
    const api = (method: string, path = '') =>
      fetch(`${this.o.url}/hub/api/users/${s.name}/server${path}`, {
        method,
        headers: { authorization: `token ${s.token}` },
        signal: AbortSignal.timeout(15_000),
      })
    const state = async () => {
      const res = await fetch(`${this.o.url}/hub/api/users/${s.name}`, {
        headers: { authorization: `token ${s.token}` },
        signal: timeout(),
      })
      if (!res.ok) return 'unknown'
      const u = (await res.json()) as { servers: Record<string, { ready: boolean; pending: string | null }> }
      const d = u.servers['']
      return !d ? 'stopped' : d.ready ? 'running' : d.pending ? 'pending' : 'stopped'
    }
    const settle = async (want: 'running' | 'stopped', ms: number) => {
      const deadline = Date.now() + ms
      let last = 'unknown'
      while (Date.now() < deadline) {
        last = await state().catch(() => 'unknown')
        if (last === want || (want === 'running' && last === 'stopped')) return last
        await delay(250)
      }
      return last
    }
    const cycle = async (): Promise<string> => {
      const res = await api('POST').catch(() => null)
      await res?.body?.cancel()
      if (res && res.status >= 400 && res.status !== 400) return `start HTTP ${res.status}`
      return settle('running', 90_000)
    }
    while (this.running) {
      let outcome = await cycle()
      let retried = false
      if (outcome !== 'running') {
        // the start may have gone through though its answer was lost (a replica killed mid-request,
        // the spawn then taken over): see where it ended, waiting out a hub outage (state unknown)
        outcome = await settle('running', 90_000)
        if (outcome !== 'running') {
          retried = true
          outcome = await cycle()
        }
      }
      this.outcomes.push({ kind: 'spawn', at: Date.now(), ok: outcome === 'running', retried, detail: outcome })
      for (let i = 0; i < 3; i++) {
        const res = await api('DELETE').catch(() => null)
        await res?.body?.cancel()
        if (res && res.status < 500) break
        await delay(500)
      }
      await settle('stopped', 30_000)
      await delay(500)
    }
  }
}

/** '' when good(res), else the status; the body is discarded. */
async function answer(res: Response, good: (r: Response) => boolean): Promise<string> {
  await res.body?.cancel()
  return good(res) ? '' : `HTTP ${res.status}`
}
