// The live V8 heap of a Node process started with --inspect=HOST:PORT: a full garbage collection
// through the inspector protocol, then the heap in use. Unlike RSS, which follows how far V8 lets
// garbage pile up between collections, this is what the process retains: what a leak would raise.
import WebSocket from 'ws'

/** Node flag that opens the inspector on this loopback port (pass it before the script). */
export const inspectFlag = (port: number) => `--inspect=127.0.0.1:${port}`

export async function liveHeapBytes(port: number): Promise<number> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{
    webSocketDebuggerUrl: string
  }>
  if (!targets.length) throw new Error(`no inspector target on port ${port}`)
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { perMessageDeflate: false })
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  let id = 0
  const call = (method: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const mine = ++id
      const onMessage = (data: WebSocket.RawData) => {
        const m = JSON.parse(String(data)) as {
          id?: number
          result?: Record<string, unknown>
          error?: { message: string }
        }
        if (m.id !== mine) return
        ws.off('message', onMessage)
        if (m.error) reject(new Error(`${method}: ${m.error.message}`))
        else resolve(m.result ?? {})
      }
      ws.on('message', onMessage)
      ws.send(JSON.stringify({ id: mine, method }))
    })
  try {
    await call('HeapProfiler.collectGarbage')
    return (await call('Runtime.getHeapUsage')).usedSize as number
  } finally {
    ws.close()
  }
}
