// The proxies compared with edgehub's: plain nginx proxy_pass (the baseline) and
// configurable-http-proxy (JupyterHub's default proxy, from npm) holding the same routes.
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'
import { startChild, type Child } from '../../runtime/src/child'
import { freePort } from '../../runtime/src/ports'
import { waitFor } from '../../runtime/src/wait'
import { probe } from '../../proxy/src/nginx-process'
import type { Cleanups } from './cleanup'
import { startNginx, type NginxInstance } from './nginx'

const UPSTREAM_DIR = fileURLToPath(new URL('../upstream', import.meta.url))
const CHP_BIN = fileURLToPath(
  new URL('../../node_modules/configurable-http-proxy/bin/configurable-http-proxy', import.meta.url),
)

export async function startBaselineNginx(opts: {
  runDir: string
  upstreamPort: number
  workers: number
  cleanups: Cleanups
}): Promise<NginxInstance> {
  const nginx = await startNginx({
    name: 'baseline nginx',
    template: join(UPSTREAM_DIR, 'baseline-nginx.conf.tmpl'),
    vars: { WORKERS: opts.workers, UPSTREAM_PORT: opts.upstreamPort },
    runDir: opts.runDir,
    port: await freePort(),
  })
  opts.cleanups.push(() => nginx.stop())
  return nginx
}

export interface Chp {
  url: string
  pid: number
  child: Child
  /** Adds routes /user/NAME → upstream through CHP's REST API (as JupyterHub does). */
  addRoutes(users: string[], upstreamPort: number, onProgress?: (done: number) => void): Promise<void>
}

export async function startChp(opts: { runDir: string; cleanups: Cleanups }): Promise<Chp> {
  mkdirSync(opts.runDir, { recursive: true })
  const [port, apiPort] = [await freePort(), await freePort()]
  const authToken = randomBytes(16).toString('hex')
  const child = startChild({
    name: 'configurable-http-proxy',
    command: process.execPath,
    args: [
      CHP_BIN,
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--api-ip',
      '127.0.0.1',
      '--api-port',
      String(apiPort),
      '--log-level',
      'error',
    ],
    env: { ...process.env, CONFIGPROXY_AUTH_TOKEN: authToken },
    logFile: join(opts.runDir, 'chp.log'),
  })
  opts.cleanups.push(() => child.stop())
  const api = `http://127.0.0.1:${apiPort}`
  await waitFor('configurable-http-proxy to answer', async () => (await probe(`${api}/api/routes`)) > 0, {
    timeoutMs: 15_000,
  })
  const dispatcher = new Agent({ connections: 16 })
  opts.cleanups.push(() => dispatcher.close())
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.proc.pid!,
    child,
    async addRoutes(users, upstreamPort, onProgress) {
      let next = 0
      let done = 0
      const body = JSON.stringify({ target: `http://127.0.0.1:${upstreamPort}` })
      const worker = async () => {
        while (next < users.length) {
          const user = users[next++]
          const res = await request(`${api}/api/routes/user/${user}`, {
            method: 'POST',
            headers: { authorization: `token ${authToken}`, 'content-type': 'application/json' },
            body,
            dispatcher,
          })
          await res.body.dump()
          if (res.statusCode !== 201)
            throw new Error(`configurable-http-proxy: adding /user/${user} answered ${res.statusCode}`)
          if (++done % 5000 === 0) onProgress?.(done)
        }
      }
      await Promise.all(Array.from({ length: 16 }, worker))
    },
  }
}
