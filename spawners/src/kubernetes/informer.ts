// One shared informer per resource kind: a list, then a watch from the list's resourceVersion, kept
// going for every server at once (not a watch per spawn). What users of KubeSpawner's reflectors
// suffer from is handled here:
// - a watch that has gone quiet (no event and no bookmark for quietMs: a dropped connection that never
//   closed) is ended by a watchdog, and the list and watch start again;
// - a watch that ends is started again from the last resourceVersion seen;
// - 410 Gone (that resourceVersion is compacted away) re-lists;
// - every resyncMs the objects are listed again in full, whatever the watch says.
// The cache keeps a small record per object (`slim`), never the whole object, so memory per pod stays
// constant; listeners hear of every change (including those a re-list finds).
import type { SpawnerLogger } from '../spawner'

/** An object as the API server sends it: only what the informer itself reads is typed. */
export interface KubeObject {
  metadata?: { name?: string; resourceVersion?: string }
}

export interface InformerSource {
  /** A full list: the objects and the list's resourceVersion. */
  list(): Promise<{ items: KubeObject[]; resourceVersion: string }>
  /**
   * A watch from `resourceVersion` (with bookmarks, ended by the server after timeoutSeconds): each
   * event to onEvent, then done once, with an error when it failed. Returns how to end it early.
   */
  watch(
    resourceVersion: string,
    timeoutSeconds: number,
    onEvent: (type: string, object: unknown) => void,
    done: (err?: unknown) => void,
  ): Promise<{ abort(): void }>
}

export interface InformerOptions {
  what: string
  resyncMs: number
  watchTimeoutSeconds: number
  quietMs: number
  log: SpawnerLogger
  /** false: no cache (events: only passed on to listeners). */
  cache?: boolean
}

export type Change = 'ADDED' | 'MODIFIED' | 'DELETED'

/** How the informer has fared: what tests and the operator read. */
export interface InformerStats {
  lists: number
  watches: number
  /** Watches ended by the watchdog because they went quiet. */
  quiet: number
  /** 410 Gone answers (the watch's resourceVersion was too old). */
  gone: number
  errors: number
}

const RETRY_FIRST_MS = 200
const RETRY_MAX_MS = 10_000
/** A watch that ends sooner than this counts as failing, for the wait before the next. */
const SHORT_WATCH_MS = 1000

export class SharedInformer<R> {
  private readonly items = new Map<string, R>()
  private readonly listeners = new Set<(change: Change, key: string, record: R) => void>()
  private resourceVersion = ''
  private closed = false
  private started = false
  private synced = false
  private readonly syncWaiters: Array<(err?: unknown) => void> = []
  private endWatch?: (why: 'quiet' | 'resync' | 'closed') => void
  private resyncTimer?: NodeJS.Timeout
  readonly stats: InformerStats = { lists: 0, watches: 0, quiet: 0, gone: 0, errors: 0 }

  constructor(
    private readonly source: InformerSource,
    /** The record kept and passed on for an object; its key (the object's name) comes with it. */
    private readonly slim: (object: unknown) => { key: string; record: R } | undefined,
    private readonly opts: InformerOptions,
  ) {}

  /** Starts the list and watch (once); resolves when the first list is in. */
  async ready(signal?: AbortSignal): Promise<void> {
    if (!this.started) {
      this.started = true
      void this.run()
      this.resyncTimer = setInterval(() => this.endWatch?.('resync'), this.opts.resyncMs)
      this.resyncTimer.unref()
    }
    if (this.synced) return
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal?.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.syncWaiters.push((err) => {
        signal?.removeEventListener('abort', onAbort)
        if (err) reject(err)
        else resolve()
      })
    })
  }

  /** Whether the first list is in (before that, the cache knows nothing). */
  get isSynced(): boolean {
    return this.synced
  }

  get(key: string): R | undefined {
    return this.items.get(key)
  }

  get size(): number {
    return this.items.size
  }

  /** Calls listener on every change until the returned function is called. */
  subscribe(listener: (change: Change, key: string, record: R) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  close(): void {
    this.closed = true
    clearInterval(this.resyncTimer)
    this.endWatch?.('closed')
  }

  private emit(change: Change, key: string, record: R): void {
    for (const l of this.listeners) {
      try {
        l(change, key, record)
      } catch (err) {
        this.opts.log.warn('informer listener failed', { what: this.opts.what, err: String(err) })
      }
    }
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.source.list()
    this.stats.lists++
    this.resourceVersion = resourceVersion
    if (this.opts.cache === false) return
    const seen = new Set<string>()
    for (const item of items) {
      const s = this.slim(item)
      if (!s) continue
      seen.add(s.key)
      const had = this.items.has(s.key)
      this.items.set(s.key, s.record)
      this.emit(had ? 'MODIFIED' : 'ADDED', s.key, s.record)
    }
    for (const [key, record] of this.items) {
      if (seen.has(key)) continue
      this.items.delete(key)
      this.emit('DELETED', key, record)
    }
  }

  private apply(type: string, object: unknown): 'gone' | undefined {
    const rv = (object as KubeObject | undefined)?.metadata?.resourceVersion
    if (type === 'ERROR') {
      const code = (object as { code?: number } | undefined)?.code
      if (code === 410) return 'gone'
      throw new Error(`watch error: ${(object as { message?: string } | undefined)?.message ?? code}`)
    }
    if (rv) this.resourceVersion = rv
    if (type === 'BOOKMARK') return undefined
    const s = this.slim(object)
    if (!s) return undefined
    if (type === 'DELETED') {
      if (this.opts.cache !== false) this.items.delete(s.key)
      this.emit('DELETED', s.key, s.record)
    } else if (type === 'ADDED' || type === 'MODIFIED') {
      if (this.opts.cache !== false) this.items.set(s.key, s.record)
      this.emit(type, s.key, s.record)
    }
    return undefined
  }

  /** One watch, until it ends: how it ended says whether to list again first. */
  private watchOnce(): Promise<'ended' | 'quiet' | 'gone' | 'resync' | 'error' | 'closed'> {
    return new Promise((resolve) => {
      let finished = false
      let handle: { abort(): void } | undefined
      let lastHeard = Date.now()
      const finish = (why: 'ended' | 'quiet' | 'gone' | 'resync' | 'error' | 'closed') => {
        if (finished) return
        finished = true
        clearInterval(watchdog)
        this.endWatch = undefined
        handle?.abort()
        resolve(why)
      }
      this.endWatch = finish
      const watchdog = setInterval(
        () => {
          if (Date.now() - lastHeard > this.opts.quietMs) finish('quiet')
        },
        Math.max(50, Math.min(1000, this.opts.quietMs / 4)),
      )
      watchdog.unref()
      this.stats.watches++
      this.source
        .watch(
          this.resourceVersion,
          this.opts.watchTimeoutSeconds,
          (type, object) => {
            if (finished) return
            lastHeard = Date.now()
            try {
              if (this.apply(type, object) === 'gone') finish('gone')
            } catch (err) {
              this.opts.log.warn('watch error', { what: this.opts.what, err: String(err) })
              finish('error')
            }
          },
          (err) => {
            if (!err) return finish('ended')
            if ((err as { statusCode?: number }).statusCode === 410) return finish('gone')
            this.opts.log.warn('watch failed', { what: this.opts.what, err: String((err as Error).message ?? err) })
            finish('error')
          },
        )
        .then(
          (h) => {
            handle = h
            if (finished) h.abort()
          },
          (err) => {
            this.opts.log.warn('watch failed', { what: this.opts.what, err: String(err) })
            finish('error')
          },
        )
    })
  }

  private async run(): Promise<void> {
    let listFirst = true
    let retryMs = RETRY_FIRST_MS
    while (!this.closed) {
      try {
        if (listFirst) {
          await this.relist()
          if (!this.synced) {
            this.synced = true
            for (const w of this.syncWaiters.splice(0)) w()
          }
        }
        if (this.closed) break
        const began = Date.now()
        const why = await this.watchOnce()
        if (why === 'quiet') {
          this.stats.quiet++
          this.opts.log.warn('watch went quiet; listing again and watching anew', {
            what: this.opts.what,
            quietSeconds: this.opts.quietMs / 1000,
          })
        }
        if (why === 'gone') this.stats.gone++
        listFirst = why !== 'ended'
        if (why === 'error') throw new Error('watch failed')
        if (why === 'ended' && Date.now() - began < SHORT_WATCH_MS) {
          // a server that ends every watch at once is not asked again at once, and again, …
          await new Promise((r) => setTimeout(r, retryMs).unref())
          retryMs = Math.min(RETRY_MAX_MS, retryMs * 2)
        } else retryMs = RETRY_FIRST_MS
      } catch (err) {
        this.stats.errors++
        listFirst = true
        if (this.closed) break
        if (!(err instanceof Error && err.message === 'watch failed')) {
          this.opts.log.warn('list failed', { what: this.opts.what, err: apiMessage(err) })
          // those waiting for the first list hear why it failed (the list is tried again meanwhile)
          const failed = new Error(`listing ${this.opts.what} failed: ${apiMessage(err)}`)
          for (const w of this.syncWaiters.splice(0)) w(failed)
        }
        await new Promise((r) => setTimeout(r, retryMs).unref())
        retryMs = Math.min(RETRY_MAX_MS, retryMs * 2)
      }
    }
  }
}

/** An API error in one line: the Status message the API server gave, or the error's own. */
export function apiMessage(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string }
  let body = e?.body
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body)
    } catch {
      /* text */
    }
  }
  const message = (body as { message?: string } | undefined)?.message
  if (message) return e.code ? `${message} (HTTP ${e.code})` : message
  if (e?.code) return `HTTP ${e.code}`
  return String(e?.message ?? err).split('\n')[0]
}
