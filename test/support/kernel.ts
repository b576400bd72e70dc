// Talks to a Jupyter kernel over its WebSocket channels, through the proxy.
import { randomUUID } from 'node:crypto'
import WebSocket from 'ws'

export interface KernelSocket {
  ws: WebSocket
  /** Sends code; resolves with the execute_result text and stream output once the kernel is idle. */
  execute(code: string, onStream?: (text: string) => void): Promise<{ result?: string; stdout: string }>
  close(): void
}

export async function openKernel(wsUrl: string, headers: Record<string, string>): Promise<KernelSocket> {
  const ws = new WebSocket(wsUrl, { headers })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`websocket refused: HTTP ${res.statusCode}`)))
  })
  const session = randomUUID()
  return {
    ws,
    execute(code, onStream) {
      const msgId = randomUUID()
      return new Promise((resolve, reject) => {
        let result: string | undefined
        let stdout = ''
        const onMessage = (data: WebSocket.RawData) => {
          const msg = JSON.parse(data.toString())
          if (msg.parent_header?.msg_id !== msgId) return
          const type = msg.header.msg_type
          if (type === 'execute_result') result = msg.content.data['text/plain']
          if (type === 'stream') {
            stdout += msg.content.text
            onStream?.(msg.content.text)
          }
          if (type === 'error') reject(new Error(`${msg.content.ename}: ${msg.content.evalue}`))
          if (type === 'status' && msg.content.execution_state === 'idle') {
            ws.off('message', onMessage)
            ws.off('close', onClose)
            resolve({ result, stdout })
          }
        }
        const onClose = () => reject(new Error('kernel websocket closed'))
        ws.on('message', onMessage)
        ws.once('close', onClose)
        ws.send(
          JSON.stringify({
            header: {
              msg_id: msgId,
              username: 'test',
              session,
              msg_type: 'execute_request',
              version: '5.3',
              date: new Date().toISOString(),
            },
            parent_header: {},
            metadata: {},
            content: {
              code,
              silent: false,
              store_history: false,
              user_expressions: {},
              allow_stdin: false,
              stop_on_error: true,
            },
            buffers: [],
            channel: 'shell',
          }),
        )
      })
    },
    close: () => ws.close(),
  }
}
