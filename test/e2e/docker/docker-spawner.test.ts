// The docker spawner against a real Docker engine (test/support/docker.ts): what the spawner
// contract does not cover. The home volume outlives its container; names of users that differ only
// in case or punctuation stay apart; failures say what went wrong (the container's last log lines,
// memory, a missing image, root); an aborted start leaves no container; a container gets JupyterHub's
// variables and the configured ones only, confined; profiles choose among what was offered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tmpdir } from 'node:os'
import type Docker from 'dockerode'
import { SPAWNERS, type Spawner, type SpawnerState, type SpawnRequest } from '../../../spawners/src'
import { waitFor } from '../../../runtime/src/wait'
import { spawnRequest } from '../../support/spawn-request'
import { dockerEngine, dockerSkipReason, TEST_IMAGE_VOLUMES, type DockerEngine } from '../../support/docker'

const quiet = { info() {}, warn() {} }

/** A server that answers GET /write by writing ~/note.txt, and every GET with the note (or "none"). */
const NOTE_SERVER = `
import http.server, os, sys
NOTE = os.path.expanduser("~/note.txt")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.endswith("/write"):
            with open(NOTE, "w") as f:
                f.write("written by %s" % os.getuid())
        body = open(NOTE).read() if os.path.exists(NOTE) else "none"
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body.encode())
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
`
const NOTE_CMD = ['/usr/bin/python3', '-c', NOTE_SERVER, '{ip}', '{port}']

describe.skipIf(!!dockerSkipReason)(
  `docker spawner${dockerSkipReason ? ` (skipped: ${dockerSkipReason})` : ''}`,
  () => {
    let engine: DockerEngine
    const hubId = `docker-test-${process.pid}`
    const started: Array<{ spawner: Spawner; state: SpawnerState }> = []
    let n = 0
    /** A prefix of this file's own for its containers and volumes. */
    const prefix = `dt${process.pid % 10000}`

    const make = (settings: Record<string, unknown> = {}) =>
      SPAWNERS.docker.create(
        SPAWNERS.docker.settings.parse({
          host: engine.host,
          image: engine.image,
          pullPolicy: 'never',
          network: 'host',
          nameTemplate: `${prefix}-{username}-{servername}`,
          volumeNameTemplate: `${prefix}-home-{username}`,
          volumes: TEST_IMAGE_VOLUMES,
          cmd: NOTE_CMD,
          ...settings,
        }),
        { dataDir: tmpdir(), log: quiet },
      )

    const request = (user = `u${++n}`, server = '', progress: (m: string) => void = () => {}): SpawnRequest =>
      spawnRequest({ user, server, hubId, token: 'the-servers-token', logFile: '/dev/null', progress })
    const start = async (spawner: Spawner, req = request(), signal = AbortSignal.timeout(60_000)) => {
      const state = await spawner.start(req, signal)
      started.push({ spawner, state })
      return JSON.parse(JSON.stringify(state)) as SpawnerState
    }
    const get = async (url: string) => {
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(2_000) })
        return r.status === 200 ? await r.text() : undefined
      } catch {
        return undefined
      }
    }
    const answer = async (spawner: Spawner, state: SpawnerState, path = '') =>
      waitFor(
        'the server to answer',
        async () => {
          const s = await spawner.poll(state)
          return s.phase === 'running' ? get(`${s.url}${path}`) : undefined
        },
        { timeoutMs: 30_000 },
      )
    const stoppedStatus = (spawner: Spawner, state: SpawnerState) =>
      waitFor(
        'the container to stop',
        async () => {
          const s = await spawner.poll(state)
          return s.phase === 'stopped' ? s : undefined
        },
        { timeoutMs: 30_000 },
      )
    const containersNamed = async (name: string): Promise<Docker.ContainerInfo[]> =>
      (await engine.docker.listContainers({ all: true })).filter((c) => c.Names.includes(`/${name}`))

    beforeAll(async () => {
      engine = await dockerEngine()
    }, 180_000)
    afterAll(async () => {
      for (const { spawner, state } of started) await spawner.stop(state, { graceMs: 1_000 }).catch(() => {})
      if (!engine) return
      for (const c of await engine.docker.listContainers({ all: true }))
        if (c.Names.some((x) => x.startsWith(`/${prefix}-`)))
          await engine.docker.getContainer(c.Id).remove({ force: true })
      const { Volumes } = await engine.docker.listVolumes()
      for (const v of Volumes.filter((v) => v.Name.startsWith(`${prefix}-`)))
        await engine.docker.getVolume(v.Name).remove()
    }, 60_000)

    it("keeps the user's home volume across a stop and a start: a file written before is read after", async () => {
      const spawner = make()
      const steps: string[] = []
      const req = request(undefined, '', (m) => steps.push(m))
      const first = await start(spawner, req)
      // the image is there (no pull): the steps the spawn page shows
      expect(steps).toEqual([`Creating container ${first.name}`, `Starting container ${first.name}`])
      expect(await answer(spawner, first)).toBe('none')
      expect(await answer(spawner, first, 'write')).toBe('written by 1000') // the image's user, not root
      await spawner.stop(first, { graceMs: 1_000 })
      expect(await containersNamed(String(first.name))).toEqual([]) // removed on stop (the default)
      const second = await start(spawner, req)
      expect(second.id).not.toBe(first.id)
      expect(await answer(spawner, second)).toBe('written by 1000')
      await spawner.stop(second, { graceMs: 1_000 })
    })

    it('gives users whose names differ only in case or punctuation containers and volumes of their own', async () => {
      const spawner = make()
      const users = ['Ada', 'ada', 'a.da', 'a-da', 'a_da']
      const states = await Promise.all(users.map((u) => start(spawner, request(u))))
      expect(new Set(states.map((s) => s.name)).size).toBe(users.length)
      // each writes its own note; the others' homes stay empty
      expect(await answer(spawner, states[0]!, 'write')).toBe('written by 1000')
      for (const s of states.slice(1)) expect(await answer(spawner, s)).toBe('none')
      const volumes = new Set<string>()
      for (const s of states) {
        const info = await engine.docker.getContainer(String(s.id)).inspect()
        const home = info.Mounts.find((m) => m.Destination === '/home/jovyan')
        expect(home?.Type).toBe('volume')
        volumes.add(String(home?.Name))
      }
      expect(volumes.size).toBe(users.length)
      expect([...volumes]).toContain(`${prefix}-home--41da`) // JupyterHub's escaping: A is -41
      await Promise.all(states.map((s) => spawner.stop(s, { graceMs: 1_000 })))
    })

    it('gives a container JupyterHub’s variables and the configured ones, nothing of the hub’s, confined', async () => {
      const spawner = make({ env: { COURSE: 'physics' }, memLimit: '256M', cpuLimit: 0.5, labels: { team: 'a' } })
      const req = request(undefined, 'named')
      const state = await start(spawner, req)
      const info = await engine.docker.getContainer(String(state.id)).inspect()
      const env = Object.fromEntries(
        info.Config.Env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      )
      expect(env).toMatchObject({
        COURSE: 'physics',
        JUPYTERHUB_USER: req.user,
        JUPYTERHUB_SERVER_NAME: 'named',
        JUPYTERHUB_API_TOKEN: 'the-servers-token',
        JUPYTERHUB_SERVICE_URL: `http://127.0.0.1:${state.port}${req.baseUrl}`,
      })
      // only what the request and the settings give: none of the test process's own environment
      const allowed = new Set([...Object.keys(req.env), 'COURSE', 'PATH', 'LANG'])
      expect(Object.keys(env).filter((k) => !allowed.has(k) && !k.startsWith('JUPYTERHUB_'))).toEqual([])
      expect(info.HostConfig.Privileged).toBe(false)
      expect(info.HostConfig.CapAdd ?? []).toEqual([])
      expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges')
      expect(info.HostConfig.Memory).toBe(256 * 2 ** 20)
      expect(info.HostConfig.NanoCpus).toBe(5e8)
      expect(info.Config.User).toBe('1000:100') // the image's USER: no user configured
      expect(info.Config.Labels).toMatchObject({
        team: 'a',
        'org.jupyter.edgehub.hub-id': hubId,
        'org.jupyter.edgehub.user': req.user,
        'org.jupyter.edgehub.server': 'named',
      })
      // the shared volumes are read-only
      expect(info.Mounts.find((m) => m.Destination === '/usr')?.RW).toBe(false)
      await spawner.stop(state, { graceMs: 1_000 })
    })

    it('says why a container exited, with its last log lines', async () => {
      const spawner = make({
        cmd: [
          '/usr/bin/python3',
          '-u',
          '-c',
          'import sys\nfor i in range(30): print("line", i)\nsys.exit("cannot go on: no config")',
        ],
      })
      const state = await start(spawner)
      const status = await stoppedStatus(spawner, state)
      expect(status).toMatchObject({ phase: 'stopped', exitCode: 1 })
      const reason = (status as { reason: string }).reason
      expect(reason).toContain('the container exited with code 1')
      expect(reason).toContain('cannot go on: no config')
      expect(reason).toContain('line 29')
      expect(reason).not.toContain('line 5\n') // the last lines only
      await spawner.stop(state)
      expect(await containersNamed(String(state.name))).toEqual([])
    })

    it('says a container ran out of memory, naming the limit', async () => {
      const spawner = make({ memLimit: '8M', cmd: ['/usr/bin/python3', '-c', 'x = bytearray(200 * 2**20)'] })
      const state = await start(spawner)
      const status = await stoppedStatus(spawner, state)
      expect((status as { reason: string }).reason).toContain('ran out of memory (limit 8M)')
      await spawner.stop(state)
    })

    it('fails a start whose image is missing, with pullPolicy never or a pull that cannot succeed', async () => {
      const never = make({ image: 'edgehub-test/missing:1' })
      await expect(never.start(request(), AbortSignal.timeout(30_000))).rejects.toThrow(
        'image edgehub-test/missing:1 is not on the Docker engine, and spawner.docker.pullPolicy is never',
      )
      const steps: string[] = []
      const pulling = make({ image: 'edgehub-test/missing:1', pullPolicy: 'ifNotPresent' })
      const req = request(undefined, '', (m) => steps.push(m))
      await expect(pulling.start(req, AbortSignal.timeout(60_000))).rejects.toThrow(
        'could not pull image edgehub-test/missing:1',
      )
      expect(steps[0]).toBe('Pulling image edgehub-test/missing:1')
      expect(await containersNamed(`${prefix}-${req.user}`)).toEqual([])
    })

    it('refuses to run a container as root unless allowed', async () => {
      await expect(make({ user: '0:0' }).start(request(), AbortSignal.timeout(30_000))).rejects.toThrow(
        'spawner.docker.user 0:0 is root, and spawner.docker.allowRoot is false',
      )
      const spawner = make({ user: '0:0', allowRoot: true })
      const state = await start(spawner)
      expect(await answer(spawner, state)).toBe('none') // HOME is /root, which the image lacks: no note
      expect((await engine.docker.getContainer(String(state.id)).inspect()).Config.User).toBe('0:0')
      await spawner.stop(state, { graceMs: 1_000 })
    })

    it('removes the container of a start aborted after creating it', async () => {
      const spawner = make()
      const abort = new AbortController()
      const req = request(undefined, '', (m) => {
        if (m.startsWith('Starting container')) abort.abort(new Error('start timeout'))
      })
      await expect(spawner.start(req, abort.signal)).rejects.toThrow('start timeout')
      expect(await containersNamed(`${prefix}-${req.user}`)).toEqual([])
      expect((await spawner.list!(hubId)).filter((s) => s.user === req.user)).toEqual([])
    })

    it('with remove: false keeps a stopped container until the next start replaces it, the volume kept', async () => {
      const spawner = make({ remove: false })
      const req = request()
      const first = await start(spawner, req)
      await answer(spawner, first, 'write')
      await spawner.stop(first, { graceMs: 1_000 })
      const kept = await containersNamed(String(first.name))
      expect(kept.map((c) => [c.Id, c.State])).toEqual([[first.id, 'exited']])
      expect((await spawner.poll(first)).phase).toBe('stopped')
      expect((await spawner.list!(hubId)).filter((s) => s.user === req.user)).toEqual([]) // only running ones
      const second = await start(spawner, req)
      expect(await answer(spawner, second)).toBe('written by 1000')
      expect((await containersNamed(String(first.name))).map((c) => c.Id)).toEqual([second.id])
      await spawner.stop(second, { graceMs: 1_000 })
    })

    it('recovers: a spawner made anew finds a labelled container with list() and stops it from the state it gives', async () => {
      const req = request(undefined, 'lab')
      const state = await start(make(), req)
      await answer(make(), state)
      const restarted = make()
      const found = (await restarted.list!(hubId)).find((s) => s.user === req.user)
      expect(found).toMatchObject({ user: req.user, server: 'lab', state: { id: state.id, port: state.port } })
      expect(await answer(restarted, found!.state)).toBe('none')
      await restarted.stop(found!.state, { graceMs: 1_000 })
      expect((await make().poll(state)).phase).toBe('stopped')
      expect(await containersNamed(String(state.name))).toEqual([])
    })

    it('starts the profile a user chose among those offered, and refuses others naming the field', async () => {
      const spawner = make({
        profiles: [
          { slug: 'small', displayName: 'Small', overrides: { memLimit: '128M', env: { SIZE: 'small' } } },
          {
            slug: 'big',
            displayName: 'Big',
            groups: ['staff'],
            overrides: { memLimit: '512M', volumes: [{ source: '/etc/hostname', target: '/srv/shared' }] },
          },
        ],
      })
      const student = { name: 'student', groups: [], admin: false }
      const staff = { name: 'staff', groups: ['staff'], admin: true }
      expect(spawner.optionsForm!(student)!.profiles.map((p) => p.slug)).toEqual(['small'])
      const refused = (() => {
        try {
          spawner.checkOptions!(student, { profile: 'big' })
        } catch (err) {
          return err as { status: number; message: string }
        }
      })()
      expect(refused?.status).toBe(400)
      expect(refused?.message).toMatch(/^user_options\.profile: "big" is not a profile offered to student/)
      // an image or a limit cannot be asked for directly: only profile and its options are options
      expect(() => spawner.checkOptions!(staff, { profile: 'big', image: 'evil:1' })).toThrow(/^user_options\.image:/)
      expect(() => spawner.checkOptions!(staff, { profile: 'big', memLimit: '1T' })).toThrow(/^user_options\.memLimit:/)

      const req = { ...request(), options: spawner.checkOptions!(staff, { profile: 'big' }) }
      const state = await start(spawner, req)
      const info = await engine.docker.getContainer(String(state.id)).inspect()
      expect(info.HostConfig.Memory).toBe(512 * 2 ** 20)
      expect(info.Mounts.find((m) => m.Destination === '/srv/shared')?.RW).toBe(false)
      expect(info.Mounts.find((m) => m.Destination === '/usr')).toBeDefined() // added to the configured ones
      await spawner.stop(state, { graceMs: 1_000 })
      const small = await start(spawner, { ...request(), options: spawner.checkOptions!(student, {}) })
      const smallInfo = await engine.docker.getContainer(String(small.id)).inspect()
      expect(smallInfo.HostConfig.Memory).toBe(128 * 2 ** 20)
      expect(smallInfo.Config.Env).toContain('SIZE=small')
      await spawner.stop(small, { graceMs: 1_000 })
    })

    it('leaves alone a container of the same name that another hub made', async () => {
      const spawner = make()
      const req = request()
      const state = await start(spawner, req)
      const other = make()
      const foreign = { ...req, env: { ...req.env, EDGEHUB_HUB_ID: 'another-hub' } }
      await expect(other.start(foreign, AbortSignal.timeout(30_000))).rejects.toThrow(
        `container ${state.name} exists and is not this hub's`,
      )
      expect((await spawner.poll(state)).phase).toBe('running')
      await spawner.stop(state, { graceMs: 1_000 })
    })
  },
)
