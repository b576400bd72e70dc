// The benchmark's single-user server: nginx answering every GET with a short 200 and echoing
// WebSocket messages at any path ending in /ws (bench/upstream), so the proxy is what is measured.
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { freePort } from '../../runtime/src/ports'
import { startNginx, type NginxInstance } from './nginx'

const DIR = fileURLToPath(new URL('../upstream', import.meta.url))

export async function startUpstream(runDir: string): Promise<NginxInstance & { port: number }> {
  const port = await freePort()
  const nginx = await startNginx({
    name: 'upstream',
    template: join(DIR, 'nginx.conf.tmpl'),
    vars: { LUA_DIR: DIR },
    runDir,
    port,
  })
  return { ...nginx, port }
}
