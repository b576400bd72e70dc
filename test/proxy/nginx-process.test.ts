// startProxy: config check, start, stop by pid.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../../runtime/src/ports'
import { probe, startProxy } from '../../proxy/src/nginx-process'

const dir = mkdtempSync(join(tmpdir(), 'edgehub-nginx-process-'))
afterAll(() => {
  if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
})

const opts = async (name: string) => ({
  listen: { host: '127.0.0.1', port: await freePort() },
  hubUpstreams: ['127.0.0.1:9'],
  redis: { host: '127.0.0.1', port: await freePort() },
  prefix: 'edgehub:',
  runDir: join(dir, name),
  workerProcesses: 1,
})

describe('startProxy', () => {
  it('surfaces the nginx -t error for a config that does not load', async () => {
    const o = { ...(await opts('bad-module')), modules: ['/nonexistent/ngx_http_lua_module.so'] }
    await expect(startProxy(o)).rejects.toThrow(/nginx -t failed for [\s\S]*\/nonexistent\/ngx_http_lua_module.so/)
  })

  it("fails with nginx's own message when the Lua modules do not load", async () => {
    const o = { ...(await opts('bad')), luaDir: '/nonexistent/lua' }
    await expect(startProxy(o)).rejects.toThrow(/nginx exited with code 1:[\s\S]*module 'edgehub.config' not found/)
  })

  it('answers the health location with 503 before the first sync, and stops with its workers', async () => {
    const p = await startProxy(await opts('ok'))
    expect(await probe(`${p.url}/_edgehub/proxy/health`)).toBe(503)
    const workers = (await import('node:fs'))
      .readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number)
    expect(workers.length).toBe(1)
    await p.stop()
    await p.stop()
    expect(await probe(`${p.url}/_edgehub/proxy/health`)).toBe(0)
    for (const pid of [p.pid, ...workers]) expect(() => process.kill(pid, 0)).toThrow()
  })
})
