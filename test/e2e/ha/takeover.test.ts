// Several hub replicas against one Redis: a spawn whose replica stalls or dies is taken over or failed
// within the lock lease, a stalled replica's late writes are refused by the fencing token, orphaned
// server processes are stopped, and leadership of the background jobs moves when the leader dies.
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startCluster, type Cluster } from '../../support/cluster'
import { markedServers } from '../../support/harness'
import { addAccount, isRoot, passwd } from '../../support/accounts'
import { freePort } from '../../../runtime/src/ports'
import { procStat } from '../../../runtime/src/process-tree'
import { waitFor } from '../../../runtime/src/wait'
import { addUser, rootOf, stopServer } from '../../support/people'

// A server that starts answering HTTP only once its "go" file exists (it marks that it waits).
const SLOW_SERVER = `
import http.server, os, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
open(go + ".waiting", "w").close()
while not os.path.exists(go):
    time.sleep(0.05)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"slow server " + self.path.encode())
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
`

describe('hub replicas share spawns through the per-server lock', () => {
  let c: Cluster
  let token: string
  let go: string

  // the script and the go files: in a directory every user's server can use (a hub running as
  // root runs each server as its user's own account, which cannot enter the hub's data directory)
  const shared = mkdtempSync(join(tmpdir(), 'edgehub-takeover-'))
  chmodSync(shared, 0o1777)

  beforeAll(async () => {
    c = await startCluster({
      hubs: 2,
      proxies: 1,
      haproxy: false,
      overrides: {
        hub: { pollIntervalSec: 1, slowSpawnTimeoutSec: 0.5, serverLockLeaseSec: 2 },
        spawner: {
          httpTimeoutSec: 60,
          'local-process': {
            command: ['python3'],
            args: [join(shared, 'slow_server.py'), '{port}', join(shared, 'go-{user}')],
          },
        },
      },
    })
    writeFileSync(join(shared, 'slow_server.py'), SLOW_SERVER, { mode: 0o644 })
    go = join(shared, 'go-')
    // ada, the first admin, with the CLI (her token from her login session); bob added by her through the API
    const ada = await rootOf(c, 'ada')
    token = ada.token
    await addUser(ada, 'bob')
  }, 120_000) // the harness gives each hub and the proxy 60 s to answer on a loaded machine
  afterAll(async () => {
    await c?.stop()
    rmSync(shared, { recursive: true, force: true })
  }, 60_000)
  // every case starts with both replicas up, whatever an earlier case did
  beforeEach(async () => {
    for (const i of [0, 1]) if (!c.hubAlive(i)) await c.startHub(i)
  }, 30_000)

  const spawnOn = async (hub: number, user: string) => {
    const res = await fetch(`${c.hubUrls[hub]}/hub/api/users/${user}/server`, {
      method: 'POST',
      headers: { authorization: `token ${token}` },
    })
    await res.body?.cancel()
    return res.status
  }
  const record = (user: string) => c.serverRecord(user)
  /** The server processes carrying the stack's mark, as the hub's spawner lists them. */
  const serverProcesses = async () => markedServers(await c.hubId())
  const nonLeader = async () => 1 - (await c.waitForLeader())

  it("a stalled replica's spawn is taken over, and its late route write is refused", async () => {
    const a = await nonLeader()
    expect(await spawnOn(a, 'ada')).toBe(202)
    const rec = await waitFor(
      'the server process to be recorded',
      async () => (await record('ada'))?.spawner && (await record('ada')),
    )
    // the process is up and waiting (on a loaded machine Python can take a while to get there)
    await waitFor('the server process to wait for its go file', () => existsSync(`${go}ada.waiting`))
    c.signalHub(a, 'SIGSTOP')
    try {
      writeFileSync(`${go}ada`, '')
      const taken = await waitFor(
        'another replica to finish the spawn',
        async () => (await record('ada'))?.state === 'running' && (await record('ada')),
        {
          timeoutMs: 20_000,
        },
      )
      expect(taken.spawner?.pid).toBe(rec.spawner?.pid)
    } finally {
      c.signalHub(a, 'SIGCONT')
    }
    const fenceAfterTakeover = Number(await c.state.hget(c.keys.server('ada', ''), 'fence'))
    // the stalled replica wakes up, finds its server answering and tries to publish the route
    await waitFor(
      'the stalled replica to give up',
      async () => (await readLog(c, a)).includes('gave up a spawn another replica took over'),
      {
        timeoutMs: 15_000,
      },
    )
    expect(Number(await c.state.hget(c.keys.server('ada', ''), 'fence'))).toBe(fenceAfterTakeover)
    const route = await c.tables.get<{ target: string }>('routes', '/user/ada/') // the route's key: its path (docs/redis-schema.md)
    expect(route?.target).toBe((await record('ada'))?.target)
    const res = await fetch(`${c.proxyUrls[0]}/user/ada/x`, { headers: { authorization: `token ${token}` } })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('slow server /user/ada/x')
    expect(await serverProcesses()).toHaveLength(1)
    await stopServer(c.url, token, 'ada')
  }, 60_000)

  it('a spawn whose replica died is failed within the lease, its process stopped, and can be retried', async () => {
    const a = await nonLeader()
    expect(await spawnOn(a, 'bob')).toBe(202)
    await waitFor('the server process to be recorded', async () => (await record('bob'))?.spawner)
    const killed = Date.now()
    await c.killHub(a)
    const failed = await waitFor(
      'the spawn to be failed',
      async () => (await record('bob'))?.state === 'stopped' && (await record('bob')),
      {
        timeoutMs: 20_000,
      },
    )
    const took = Date.now() - killed
    expect(failed.failed).toBe('1') // docs/redis-schema.md: a spawn that failed
    expect(failed.message).toContain('interrupted')
    expect(took).toBeLessThan((2 + 1) * 1000 + 5000) // lease + poll interval, with room for a slow machine
    expect((await serverProcesses()).filter((s) => s.user === 'bob')).toHaveLength(0)
    const history = await c.progress('bob')
    expect(history.at(-1)).toMatchObject({ failed: true })
    // retried on the surviving replica
    writeFileSync(`${go}bob`, '')
    const b = 1 - a
    expect([201, 202]).toContain(await spawnOn(b, 'bob'))
    await waitFor('the retry to be running', async () => (await record('bob'))?.state === 'running', {
      timeoutMs: 15_000,
    })
    await stopServer(c.hubUrls[b], token, 'bob') // the surviving replica
  }, 60_000)

  it('stops a server process that no record owns', async () => {
    // an orphan is a process no hub recorded, with the stack's mark: started here as the spawner
    // starts a server (as root, under the user's own account), as no product path would
    const prefix = (c.settings.spawner['local-process'] as { userPrefix: string }).userPrefix
    if (isRoot) addAccount(`${prefix}carol`) // removed with the stack's accounts when it stops
    const account = isRoot ? passwd(`${prefix}carol`) : undefined
    const orphan = spawn('python3', [join(shared, 'slow_server.py'), String(await freePort()), `${go}carol`], {
      env: {
        PATH: process.env.PATH,
        EDGEHUB_HUB_ID: await c.hubId(),
        JUPYTERHUB_USER: 'carol',
        JUPYTERHUB_SERVER_NAME: '',
      },
      uid: account?.uid,
      gid: account?.gid,
      cwd: shared,
      stdio: 'ignore',
    })
    const running = () =>
      !['Z', undefined].includes(procStat(orphan.pid!)?.state) && orphan.exitCode === null && orphan.signalCode === null
    try {
      expect(running()).toBe(true)
      // listed as carol's server once it runs python (its environment is the mark's from its exec on)
      await waitFor(
        'the orphan to be listed as a server of the stack',
        async () => (await serverProcesses()).some((s) => s.user === 'carol' && s.pid === orphan.pid),
        { timeoutMs: 5000, intervalMs: 10 },
      )
      await waitFor('the orphan to be stopped', async () => !running(), {
        timeoutMs: 20_000,
      })
    } finally {
      if (running()) orphan.kill('SIGKILL') // the check failed: nothing of the test stays behind
    }
    await waitFor('the sweep to report it', async () =>
      (await readLogs(c)).includes('stopped a server process no record owns'),
    )
  }, 60_000)

  it('moves leadership to another replica within seconds when the leader is killed', async () => {
    const leader = await c.waitForLeader()
    const killed = Date.now()
    await c.killHub(leader)
    await waitFor('a new leader', async () => (await c.leader()) === 1 - leader, { timeoutMs: 15_000 })
    expect(Date.now() - killed).toBeLessThan(10_000) // lease 5 s + one renewal, with room for a loaded machine
  }, 40_000)

  it('keeps no spawn state in a replica: progress started on one replica streams from another', async () => {
    writeFileSync(`${go}ada`, '')
    const a = await nonLeader()
    expect([201, 202]).toContain(await spawnOn(a, 'ada'))
    const res = await fetch(`${c.hubUrls[1 - a]}/hub/api/users/ada/server/progress`, {
      headers: { authorization: `token ${token}` },
    })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain('"ready":true')
    await stopServer(c.url, token, 'ada')
    expect(existsSync(`${go}ada`)).toBe(true)
  }, 40_000)
})

async function readLog(c: Cluster, i: number): Promise<string> {
  const { readFileSync } = await import('node:fs')
  return readFileSync(join(c.dir, `hub${i}.log`), 'utf8')
}

async function readLogs(c: Cluster): Promise<string> {
  return (await Promise.all(c.hubUrls.map((_, i) => readLog(c, i).catch(() => '')))).join('\n')
}
