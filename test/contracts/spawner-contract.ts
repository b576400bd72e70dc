// The contract every spawner must keep, as one suite: `spawnerContract(kind, setup)` runs it for one
// plug-in (test/contracts/spawners.test.ts lists them; a new spawner adds one line there). The
// servers it starts are real: a small HTTP server that answers every GET with 200 and exits on
// GET .../exit, started the way the plug-in starts servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Spawner, SpawnerState, SpawnRequest } from '../../spawners/src'
import { waitFor } from '../../runtime/src/wait'
import { spawnRequest } from '../support/spawn-request'

/** The server each contract test starts: 200 on every GET, exit on GET .../exit; args: ip, port. */
export const CONTRACT_SERVER = `
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")
        if self.path.endswith("/exit"):
            self.wfile.flush()
            os._exit(0)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
`

export interface SpawnerUnderTest {
  /** A spawner as a hub starting up makes it (the same settings every time): a restart is a second call. */
  make(): Spawner
  /** Called once at the end: remove what the plug-in made besides servers (accounts, images). */
  cleanup?(): Promise<void>
}

/** The kinds spawnerContract was called for in this file: spawners.test.ts checks every registered one is. */
export const contractKinds = new Set<string>()

export function spawnerContract(kind: string, setup: () => Promise<SpawnerUnderTest>): void {
  contractKinds.add(kind)
  describe(`spawner contract: ${kind}`, () => {
    let under: SpawnerUnderTest
    let spawner: Spawner
    let logs: string
    const hubId = `contract-${process.pid}-${Date.now()}`
    const started: SpawnerState[] = []
    const steps: string[] = []
    let n = 0

    /** A request as the orchestrator makes it, for a user of this suite's own. */
    const request = (server = ''): SpawnRequest => {
      const user = `ct${process.pid % 1000}x${++n}`
      return spawnRequest({
        user,
        server,
        hubId,
        token: 'contract-token',
        logFile: join(logs, `${user}.log`),
        progress: (message) => {
          // the hub shows these to the user: short text, one step at a time
          expect(typeof message).toBe('string')
          expect(message.length).toBeGreaterThan(0)
          steps.push(message)
        },
      })
    }
    const start = async (req = request()) => {
      const state = await spawner.start(req, AbortSignal.timeout(30_000))
      started.push(JSON.parse(JSON.stringify(state))) // what the hub keeps in Redis is JSON
      return { req, state }
    }
    const runningUrl = async (state: SpawnerState) =>
      waitFor(
        'the server to run',
        async () => {
          const s = await spawner.poll(state)
          return s.phase === 'running' ? s.url : undefined
        },
        { timeoutMs: 30_000 },
      )
    const answers = async (url: string) => {
      try {
        return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200
      } catch {
        return false
      }
    }
    const stopped = (state: SpawnerState) =>
      waitFor('the server to stop', async () => (await spawner.poll(state)).phase === 'stopped', { timeoutMs: 30_000 })

    beforeAll(async () => {
      logs = mkdtempSync(join(tmpdir(), 'edgehub-contract-'))
      under = await setup()
      spawner = under.make()
    }, 60_000)
    afterAll(async () => {
      for (const s of started) await spawner.stop(s, { graceMs: 1_000 }).catch(() => {})
      await under?.cleanup?.()
      rmSync(logs, { recursive: true, force: true })
    }, 60_000)

    it('starts a server that answers HTTP at the URL poll gives, and stops it', async () => {
      const { req, state } = await start()
      const url = await runningUrl(state)
      expect(url).toMatch(new RegExp(`^http://[^/]+${req.baseUrl}$`))
      await waitFor('the server to answer', () => answers(url), { timeoutMs: 30_000 })
      await spawner.stop(state, { graceMs: 5_000 })
      expect((await spawner.poll(state)).phase).toBe('stopped')
      expect(await answers(url)).toBe(false)
    })

    it('stops idempotently: a second stop, and a stop of a server that is gone, do nothing and do not throw', async () => {
      const { state } = await start()
      await runningUrl(state)
      await spawner.stop(state, { graceMs: 5_000 })
      await spawner.stop(state, { graceMs: 5_000 })
      expect((await spawner.poll(state)).phase).toBe('stopped')
    })

    it('reports a server that exited on its own as stopped', async () => {
      const { req, state } = await start()
      const url = await runningUrl(state)
      await waitFor('the server to answer', () => answers(url), { timeoutMs: 30_000 })
      await fetch(`${url}exit`).catch(() => {})
      await stopped(state)
      expect(await answers(`${url}`)).toBe(false)
      expect(req.user).toMatch(/^ct/)
    })

    it('keeps its state as JSON: a spawner made anew (a hub restart) polls and stops a running server', async () => {
      const { state } = await start(request('named'))
      const url = await runningUrl(state)
      const restarted = under.make()
      const stored: SpawnerState = JSON.parse(JSON.stringify(state))
      // the same server by its instance key, in any replica
      expect(restarted.instanceKey(stored)).toBe(spawner.instanceKey(state))
      const after = await restarted.poll(stored)
      expect(after.phase).toBe('running')
      await waitFor('the server to answer', () => answers(url), { timeoutMs: 30_000 })
      await restarted.stop(stored, { graceMs: 5_000 })
      expect((await spawner.poll(state)).phase).toBe('stopped')
    })

    it('honours an aborted start: it rejects, and nothing of it is left running', async () => {
      const req = request()
      await expect(spawner.start(req, AbortSignal.abort(new Error('start timeout')))).rejects.toThrow()
      if (spawner.list) expect((await spawner.list(hubId)).filter((s) => s.user === req.user)).toEqual([])
    })

    it('finds its running servers by the hub id they were started with (orphans after a crash), and not others', async () => {
      if (!spawner.list) return // optional in the contract: a spawner without it leaves orphans to its operator
      const { req, state } = await start()
      await runningUrl(state)
      const found = await waitFor('the server in list()', async () => {
        const l = await spawner.list!(hubId)
        return l.find((s) => s.user === req.user)
      })
      expect(found.server).toBe('')
      expect(spawner.instanceKey(found.state)).toBe(spawner.instanceKey(state)) // how orphans are told from owned servers
      expect((await spawner.poll(found.state)).phase).toBe('running')
      expect((await spawner.list('another-hub-id')).filter((s) => s.user === req.user)).toEqual([])
      await spawner.stop(found.state, { graceMs: 5_000 })
      expect((await spawner.poll(state)).phase).toBe('stopped')
    })
  })
}
