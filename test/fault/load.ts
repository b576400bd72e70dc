// A steady mixed load for the fault suite: users working in their servers over HTTP and a kernel
// WebSocket, hub API reads, hub pages with sessions made before the fault, fresh logins, and
// spawn/stop cycles. Every request is recorded with its time and outcome; hub requests that fail are
// retried once, as a client (or the browser's reload) would.
import { Client } from '../support/client'
import { openKernel, type KernelSocket } from '../support/kernel'
import { delay } from '../../control-plane/src/util/wait'

export type Kind = 'user-http' | 'user-ws' | 'hub-api' | 'hub-page' | 'login' | 'spawn'

export interface Outcome {
  kind: Kind
  at: number
  ok: boolean
  /** Hub requests: failed first, then the one retry succeeded. */
  retried?: boolean
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

const timeout = (ms: number) => AbortSignal.timeout(ms)

export class Load {
  readonly outcomes: Outcome[] = []
  private running = true
  private loops: Promise<void>[] = []
  private sockets = new Set<KernelSocket>()
  wsDrops = 0

  constructor(private readonly o: LoadOptions) {}

  get workers(): Worker[] {
    return this.o.workers
  }

  start(): void {
    for (const w of this.o.workers) {
      this.loops.push(this.every(40, () => this.userHttp(w)))
      if (w.kernelId) this.loops.push(this.kernelLoop(w))
      this.loops.push(this.every(100, () => this.hub('hub-api', () => fetch(`${this.o.url}/hub/api/users/${w.name}`, { headers: { authorization: `token ${w.token}` }, signal: timeout(10_000) }))))
      this.loops.push(this.every(250, () => this.hub('hub-page', () => w.client.request('/hub/home', { signal: timeout(10_000) }), (r) => r.status === 200)))
    }
    this.loops.push(this.every(500, () => this.login()))
    for (const s of this.o.spawners) this.loops.push(this.spawnLoop(s))
  }

  async stop(): Promise<void> {
    this.running = false
    for (const s of this.sockets) s.close()
    await Promise.all(this.loops)
  }

  /** Outcomes since `from` (ms timestamp). */
  since(from: number): Outcome[] {
    return this.outcomes.filter((o) => o.at >= from)
  }

  private record(kind: Kind, ok: boolean, extra: Partial<Outcome> = {}) {
    this.outcomes.push({ kind, at: Date.now(), ok, ...extra })
  }

  /** Every worker's kernel socket has answered an execution sent at or after `since`. */
  kernelsAnsweredSince(since: number): boolean {
    return this.o.workers.every((w) => this.outcomes.some((o) => o.kind === 'user-ws' && o.ok && o.who === w.name && o.at >= since))
  }

  private async every(ms: number, fn: () => Promise<void>) {
    while (this.running) {
      const started = Date.now()
      await fn().catch(() => {})
      await delay(Math.max(0, ms - (Date.now() - started)))
    }
  }

  private async userHttp(w: Worker) {
    try {
      const res = await fetch(`${this.o.url}/user/${w.name}/api/status`, { headers: { authorization: `token ${w.token}` }, signal: timeout(10_000) })
      const body = await res.text()
      this.record('user-http', res.status === 200, res.status === 200 ? {} : { detail: `${res.status} ${body.slice(0, 80)}` })
    } catch (err) {
      this.record('user-http', false, { detail: (err as Error).message })
    }
  }

  /** A hub request, retried once on failure; ok means the answer was right, possibly after the retry. */
  private async hub(kind: Kind, send: () => Promise<Response>, good: (r: Response) => boolean = (r) => r.ok) {
    const attempt = async () => {
      try {
        const res = await send()
        await res.body?.cancel()
        return good(res) ? '' : `HTTP ${res.status}`
      } catch (err) {
        return (err as Error).message
      }
    }
    const first = await attempt()
    if (!first) return this.record(kind, true)
    await delay(250)
    const second = await attempt()
    this.record(kind, !second, { retried: true, detail: second || first })
  }

  private async login() {
    const w = this.o.workers[0]
    await this.hub(
      'login',
      async () => {
        const c = new Client(this.o.url)
        const res = await c.postForm('/hub/login', { username: w.name, password: this.o.password })
        return new Response(null, { status: res.status === 302 && c.jar.has('edgehub-session') ? 200 : res.status })
      },
    )
  }

  /** One kernel WebSocket per worker, executing a cell every 200 ms; a dropped socket is reopened. */
  private async kernelLoop(w: Worker) {
    while (this.running) {
      let k: KernelSocket
      try {
        k = await openKernel(`${this.o.wsUrl}/user/${w.name}/api/kernels/${w.kernelId}/channels`, { authorization: `token ${w.token}` })
      } catch (err) {
        this.record('user-ws', false, { who: w.name, detail: `connect: ${(err as Error).message}` })
        await delay(200)
        continue
      }
      this.sockets.add(k)
      while (this.running) {
        const n = Math.floor(Math.random() * 1000)
        // recorded at the time it was sent, so a stalled socket counts in the window it stalled in
        const sent = Date.now()
        try {
          const r = await Promise.race([k.execute(`${n}+1`), delay(3000).then(() => Promise.reject(new Error('no reply in 3 s')))])
          this.outcomes.push({ kind: 'user-ws', at: sent, ok: r.result === String(n + 1), who: w.name, detail: r.result })
        } catch (err) {
          if (!this.running) break
          this.wsDrops++
          this.outcomes.push({ kind: 'user-ws', at: sent, ok: false, who: w.name, detail: (err as Error).message })
          break
        }
        await delay(200)
      }
      this.sockets.delete(k)
      k.close()
    }
  }

  /**
   * Starts the user's server, waits until it is ready or has failed, stops it; a failed spawn must be
   * retriable. Outcome per cycle: ok (ran), ok+retried (failed cleanly, the retry ran), or not ok
   * (stuck pending, or the retry failed too).
   */
  private async spawnLoop(s: { name: string; token: string }) {
    const api = (method: string, path = '') =>
      fetch(`${this.o.url}/hub/api/users/${s.name}/server${path}`, { method, headers: { authorization: `token ${s.token}` }, signal: timeout(15_000) })
    const state = async () => {
      const res = await fetch(`${this.o.url}/hub/api/users/${s.name}`, { headers: { authorization: `token ${s.token}` }, signal: timeout(10_000) })
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
      this.record('spawn', outcome === 'running', { retried, detail: outcome })
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
