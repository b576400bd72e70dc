// cleanupServers: false (JupyterHub's cleanup_servers = False): stopping `edgehub up` leaves users'
// servers running, and the next start finds them again with their routes. The default stops them.
import { afterAll, describe, expect, it } from 'vitest'
import { alive, cleanup, dataDir, descendants, loginAdmin, serverPid, stackEnv, startServer, up } from './support'
import { json } from '../../support/client'
import { waitFor } from '../../../runtime/src/wait'

afterAll(cleanup)

describe('edgehub up with cleanupServers', () => {
  it('false: servers outlive the stack and are found again; true (default): stopped with it', async () => {
    const env = await stackEnv(dataDir())
    const first = await up({ ...env, EDGEHUB_CLEANUP_SERVERS: 'false' })
    expect(first.output()).toContain("users' servers keep running")
    const admin = await loginAdmin(first)
    const pid = await startServer(first, admin)
    const parts = descendants(first.proc.pid!).filter((p) => p !== pid)
    first.proc.kill('SIGINT')
    expect(await first.exit).toBe(0)
    await waitFor('Redis, the hub and the proxy to be gone', () => parts.every((p) => !alive(p)), { timeoutMs: 10_000 })
    expect(alive(pid)).toBe(true)

    // Started again (default cleanupServers: true): the same process answers through the new proxy,
    // and stays recorded as running through the hub's checks (every second here).
    const second = await up(env)
    expect((await admin.get('/user/admin/api/status')).status).toBe(200)
    expect(await serverPid(second)).toBe(pid)
    const checked = Date.now()
    await waitFor('two rounds of server checks', () => Date.now() - checked > 2500, { timeoutMs: 5000 })
    const me = await json(await admin.api('GET', '/user'))
    expect(me.servers['']?.ready).toBe(true)
    expect((await admin.get('/user/admin/api/status')).status).toBe(200)

    second.proc.kill('SIGTERM')
    expect(await second.exit).toBe(0)
    expect(alive(pid)).toBe(false)
  })
})
