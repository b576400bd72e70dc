// WebSocket load: many connections each sending a small message and waiting for its echo, back to
// back (the kernel-channel pattern); and connect/disconnect cycles for the soak.
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import { summary } from './stats'

export interface WsTarget {
  /** ws://host:port/path */
  url: string
  headers?: Record<string, string>
}

function open(t: WsTarget): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(t.url, { headers: t.headers, perMessageDeflate: false })
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`${t.url}: upgrade refused with ${res.statusCode}`)))
  })
}

export interface WsLoadResult {
  connections: number
  messages: number
  seconds: number
  messagesPerSec: number
  rttMs: ReturnType<typeof summary>
}

/** Opens one connection per target (cycling through targets), then ping-pongs for durationSec. */
export async function wsPingPong(opts: {
  targets: WsTarget[]
  connections: number
  durationSec: number
  messageBytes: number
}): Promise<WsLoadResult> {
  const sockets: WebSocket[] = []
  for (let i = 0; i < opts.connections; i += 50) {
    const batch = Array.from({ length: Math.min(50, opts.connections - i) }, (_, j) =>
      open(opts.targets[(i + j) % opts.targets.length]),
    )
    sockets.push(...(await Promise.all(batch)))
  }
  const message = Buffer.alloc(opts.messageBytes, 'x').toString()
  const rtts: number[] = []
  let messages = 0
  let stopAt = 0
  const t0 = performance.now()
  stopAt = t0 + opts.durationSec * 1000
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve, reject) => {
          let sent = 0
          const send = () => {
            sent = performance.now()
            ws.send(message)
          }
          ws.on('message', (data) => {
            const now = performance.now()
            if (String(data).length !== message.length) return reject(new Error('the echo differs from the message'))
            rtts.push(now - sent)
            messages++
            if (now < stopAt) send()
            else resolve()
          })
          ws.once('close', () => reject(new Error('a WebSocket closed during the run')))
          send()
        }),
    ),
  )
  const seconds = (performance.now() - t0) / 1000
  for (const ws of sockets) {
    ws.removeAllListeners('close')
    ws.terminate()
  }
  return {
    connections: sockets.length,
    messages,
    seconds: Math.round(seconds * 100) / 100,
    messagesPerSec: Math.round(messages / seconds),
    rttMs: summary(rtts),
  }
}

/** `count` connect + one echo + close cycles, `concurrency` at a time; returns failures. */
export async function wsCycles(opts: {
  targets: WsTarget[]
  count: number
  concurrency: number
  onProgress?: (done: number) => void
}): Promise<{ count: number; failures: number; seconds: number }> {
  let next = 0
  let failures = 0
  let done = 0
  const t0 = performance.now()
  const worker = async () => {
    while (next < opts.count) {
      const i = next++
      try {
        const ws = await open(opts.targets[i % opts.targets.length])
        await new Promise<void>((resolve, reject) => {
          ws.once('message', () => resolve())
          ws.once('error', reject)
          ws.send('hello')
        })
        await new Promise<void>((resolve) => {
          ws.once('close', () => resolve())
          ws.close(1000)
        })
      } catch {
        failures++
      }
      if (++done % 1000 === 0) opts.onProgress?.(done)
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, worker))
  return { count: opts.count, failures, seconds: Math.round((performance.now() - t0) / 100) / 10 }
}
