// The kubernetes spawner against the FAKE API server (test/support/fake-kube-api.ts): what the shared
// contract does not cover. A watch that stalls or is answered 410 Gone never hangs a spawn; an
// unschedulable pod fails its start with the scheduler's message and is deleted; orphans are listed by
// hub id; a user's claim is made once and kept; names that differ only in case or punctuation get
// distinct pods and claims; pods are locked down; bad Kubernetes pieces fail at startup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKubernetesSpawner, type KubernetesSpawner } from './index'
import { kubernetesSettings } from './settings'
import type { SpawnRequest } from '../spawner'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'
import { type FakeKubeApi, startFakeKubeApi } from '../../../test/support/fake-kube-api'
import { fakeClusterSettings } from '../../../test/support/kube-test-settings'
import { spawnRequest } from '../../../test/support/spawn-request'

const quiet = { info() {}, warn() {} }
const logs = mkdtempSync(join(tmpdir(), 'edgehub-kube-'))
const made: KubernetesSpawner[] = []
const fakes: FakeKubeApi[] = []

afterAll(async () => {
  for (const s of made) s.close()
  for (const f of fakes) await f.close()
  rmSync(logs, { recursive: true, force: true })
})

async function setup(settings: Record<string, unknown> = {}, fakeOpts: Parameters<typeof startFakeKubeApi>[0] = {}) {
  const fake = await startFakeKubeApi(fakeOpts)
  fakes.push(fake)
  const parsed = kubernetesSettings.parse(fakeClusterSettings(fake, await freePort(), settings))
  const make = () => {
    const s = createKubernetesSpawner(parsed, { log: quiet })
    made.push(s)
    return s
  }
  return { fake, settings: parsed, spawner: make(), make }
}

const answers = async (url: string) => {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200
  } catch {
    return false
  }
}

function request(user: string, opts: { server?: string; hubId?: string; options?: SpawnRequest['options'] } = {}) {
  const steps: string[] = []
  const req = spawnRequest({
    user,
    server: opts.server,
    hubId: opts.hubId ?? 'kube-test-hub',
    token: 'kube-test-token',
    options: opts.options,
    logFile: join(logs, 'server.log'),
    progress: (m) => steps.push(m),
  })
  return { req, steps }
}

const start = (s: KubernetesSpawner, req: SpawnRequest) => s.start(req, AbortSignal.timeout(30_000))

describe('informer faults', () => {
  it('a watch that stops sending without closing is restarted by the watchdog, and a spawn still completes', async () => {
    const { fake, spawner } = await setup({ informer: { watchQuietSeconds: 2 } })
    await spawner.informers.pods.ready()
    await spawner.informers.events.ready()
    // both watches (pods, events) open, then silent
    await waitFor('the watches to be open', () => fake.openWatches() >= 2)
    expect(fake.stallWatches()).toBe(2)
    const { req, steps } = request('stalled')
    const state = await start(spawner, req)
    expect(spawner.informers.pods.stats.quiet).toBeGreaterThanOrEqual(1)
    const status = await spawner.poll(state)
    if (status.phase !== 'running') throw new Error(`not running: ${status.phase}`)
    await waitFor('the server to answer', () => answers(status.url))
    expect(steps.some((s) => s.startsWith('Creating pod'))).toBe(true)
    await spawner.stop(state, { graceMs: 1_000 })
    expect((await spawner.poll(state)).phase).toBe('stopped')
  }, 60_000)

  it('a stop during a stalled watch still returns once the pod is gone', async () => {
    const { fake, settings, spawner } = await setup({ informer: { watchQuietSeconds: 60 } })
    const state = await start(spawner, request('stopper').req)
    await waitFor('the watches to be open', () => fake.openWatches() >= 2)
    expect(fake.stallWatches()).toBe(2)
    const t0 = Date.now()
    await spawner.stop(state, { graceMs: 0 })
    expect(Date.now() - t0).toBeLessThan(10_000) // not the watchdog's 60 s
    expect(fake.objects('pods', settings.namespace)).toEqual([])
    expect(spawner.informers.pods.stats.quiet).toBe(0)
  }, 30_000)

  it('starts servers without events when it may not read them (RBAC), with less progress', async () => {
    const { spawner } = await setup({}, { forbidden: ['events'] })
    const { req, steps } = request('noevents')
    const state = await start(spawner, req)
    expect(steps).toContain('Creating pod jupyter-noevents')
    expect(steps.some((s) => s.startsWith('Scheduled'))).toBe(false)
    expect((await spawner.poll(state)).phase).toBe('running')
    await spawner.stop(state, { graceMs: 0 })
  }, 30_000)

  it('410 Gone (in a watch, and for a resourceVersion compacted away) re-lists, and the cache follows', async () => {
    const { fake, spawner } = await setup(
      { informer: { watchQuietSeconds: 60, watchTimeoutSeconds: 1 } },
      { bookmarkMs: 0 },
    )
    const pods = spawner.informers.pods
    await pods.ready()
    await spawner.informers.events.ready()
    // open watches end with ERROR 410 Gone
    await waitFor('the watches to be open', () => fake.openWatches() >= 2)
    expect(fake.compact()).toBe(2)
    await waitFor('a re-list after 410 Gone', () => pods.stats.gone >= 1 && pods.stats.lists >= 2)
    const first = request('gone1')
    const s1 = await start(spawner, first.req)
    // the history is compacted while the watch is open: the next watch, from the old version, is 410
    const gone = pods.stats.gone
    fake.compact({ endWatches: false })
    await waitFor('a watch from a compacted resourceVersion to be answered 410', () => pods.stats.gone > gone, {
      timeoutMs: 10_000,
    })
    const second = request('gone2')
    const s2 = await start(spawner, second.req)
    expect(pods.get(String(s2.pod))?.phase).toBe('Running')
    expect(pods.get(String(s1.pod))?.phase).toBe('Running')
    await spawner.stop(s1, { graceMs: 0 })
    await spawner.stop(s2, { graceMs: 0 })
    expect(pods.get(String(s1.pod))).toBeUndefined()
  }, 60_000)
})

describe('kubernetes spawner on the fake API server', () => {
  let ctx: Awaited<ReturnType<typeof setup>>
  beforeAll(async () => {
    ctx = await setup({
      profiles: [
        { slug: 'small', displayName: 'Small', default: true },
        {
          slug: 'gpu',
          displayName: 'GPU',
          overrides: { nodeSelector: { 'example.com/gpu': 'a100' }, gpus: 1, cpuLimit: '4', memoryLimit: '8Gi' },
        },
        { slug: 'broken', displayName: 'Broken image', overrides: { image: 'missing/no-such-image:1' } },
      ],
    })
  }, 30_000)

  it("fails the start of a pod no node fits with the scheduler's message, streams it, and deletes the pod", async () => {
    const { req, steps } = request('nogpu', { options: { profile: 'gpu' } })
    const t0 = Date.now()
    await expect(start(ctx.spawner, req)).rejects.toThrow(
      /^FailedScheduling: 0\/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity\/selector/,
    )
    expect(Date.now() - t0).toBeLessThan(15_000) // unschedulableTimeoutSeconds: 2, not the start timeout
    expect(steps.some((s) => s.startsWith('FailedScheduling: 0/3 nodes are available'))).toBe(true)
    expect(ctx.fake.objects('pods', ctx.settings.namespace).filter((p) => p.metadata.name === 'jupyter-nogpu')).toEqual(
      [],
    )
  }, 30_000)

  it('fails the start of a pod whose image cannot be pulled, saying so, and deletes it', async () => {
    const { req } = request('noimage', { options: { profile: 'broken' } })
    await expect(start(ctx.spawner, req)).rejects.toThrow(/ImagePullBackOff: Back-off pulling image "missing\//)
    expect(ctx.fake.objects('pods', ctx.settings.namespace).some((p) => p.metadata.name === 'jupyter-noimage')).toBe(
      false,
    )
  }, 30_000)

  it("streams the pod's events as progress, in order", async () => {
    const { req, steps } = request('progress')
    const state = await start(ctx.spawner, req)
    const at = (prefix: string) => steps.findIndex((s) => s.startsWith(prefix))
    expect(at('Creating pod jupyter-progress')).toBeGreaterThanOrEqual(0)
    expect(at('Scheduled: Successfully assigned')).toBeGreaterThan(at('Creating pod'))
    expect(at('Pulling: Pulling image "fake.invalid/contract-server:1"')).toBeGreaterThan(at('Scheduled'))
    expect(at('Started: Started container notebook')).toBeGreaterThan(at('Pulling'))
    await ctx.spawner.stop(state, { graceMs: 0 })
  }, 30_000)

  it("polls and stops a pod in its state's namespace after spawner.kubernetes.namespace changed", async () => {
    const state = await start(ctx.spawner, request('mover').req)
    const moved = createKubernetesSpawner({ ...ctx.settings, namespace: 'elsewhere' }, { log: quiet })
    made.push(moved)
    expect((await moved.poll(state)).phase).toBe('running')
    await moved.stop(state, { graceMs: 0 })
    expect(ctx.fake.objects('pods', ctx.settings.namespace).some((p) => p.metadata.name === state.pod)).toBe(false)
    expect((await moved.poll(state)).phase).toBe('stopped')
  }, 30_000)

  it('replaces a pod of the same name left behind (a start that crashed half-way)', async () => {
    const leftover = ctx.fake.create('pods', ctx.settings.namespace, {
      metadata: { name: 'jupyter-leftover', labels: { app: 'jupyterhub', component: 'singleuser-server' } },
      spec: { containers: [{ name: 'notebook', image: 'old' }] },
    })
    const { req, steps } = request('leftover')
    const fresh = await start(ctx.spawner, req)
    expect(fresh.uid).not.toBe(leftover.metadata.uid)
    expect(steps).toContain('Removing the previous pod jupyter-leftover')
    await ctx.spawner.stop(fresh, { graceMs: 0 })
  }, 30_000)

  it('makes a pod without privileges: non-root, no privilege escalation, no capabilities, no API token, no service links', async () => {
    const { req } = request('locked')
    const state = await start(ctx.spawner, req)
    const pod = ctx.fake.objects('pods', ctx.settings.namespace).find((p) => p.metadata.name === state.pod)!
    expect(pod.spec.automountServiceAccountToken).toBe(false)
    expect(pod.spec.enableServiceLinks).toBe(false)
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 100 })
    expect(pod.spec.containers[0].securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    })
    expect(pod.metadata.labels).toMatchObject({
      app: 'jupyterhub',
      component: 'singleuser-server',
      'hub.jupyter.org/username': 'locked',
      'edgehub.io/hub-id': 'kube-2dtest-2dhub', // escaped
    })
    const env = Object.fromEntries(
      pod.spec.containers[0].env.map((e: { name: string; value?: string }) => [e.name, e.value]),
    )
    expect(env.JUPYTERHUB_SERVICE_URL).toBe(`http://0.0.0.0:${ctx.settings.port}/user/locked/`)
    expect(env.JUPYTERHUB_API_TOKEN).toBe('kube-test-token')
    await ctx.spawner.stop(state, { graceMs: 0 })
  }, 30_000)

  it("makes a user's claim once, mounts it at the home directory, and keeps it when the server stops", async () => {
    const ns = ctx.settings.namespace
    const creates = () => ctx.fake.requests.get('CREATE persistentvolumeclaims') ?? 0
    const before = creates()
    for (let i = 0; i < 2; i++) {
      const { req } = request('keeper')
      const state = await start(ctx.spawner, req)
      const pod = ctx.fake.objects('pods', ns).find((p) => p.metadata.name === state.pod)!
      expect(pod.spec.volumes).toContainEqual({ name: 'home', persistentVolumeClaim: { claimName: 'claim-keeper' } })
      expect(pod.spec.containers[0].volumeMounts).toContainEqual({ name: 'home', mountPath: '/home/jovyan' })
      await ctx.spawner.stop(state, { graceMs: 0 })
    }
    expect(creates() - before).toBe(1)
    expect(ctx.fake.objects('persistentvolumeclaims', ns).map((c) => c.metadata.name)).toContain('claim-keeper')
  }, 60_000)

  it('gives names that differ only in case or punctuation pods and claims of their own', async () => {
    const users = ['Anna', 'anna', 'an.na', 'an-na', 'an_na']
    const states = await Promise.all(users.map((u) => start(ctx.spawner, request(u).req)))
    const pods = states.map((s) => String(s.pod))
    expect(new Set(pods).size).toBe(users.length)
    expect(pods).toContain('jupyter--41nna')
    expect(pods).toContain('jupyter-an-2ena')
    const claims = ctx.fake.objects('persistentvolumeclaims', ctx.settings.namespace).map((c) => c.metadata.name)
    for (const c of ['claim--41nna', 'claim-anna', 'claim-an-2ena', 'claim-an-2dna', 'claim-an-5fna'])
      expect(claims).toContain(c)
    const urls = await Promise.all(states.map((s) => ctx.spawner.poll(s)))
    expect(new Set(urls.map((u) => (u.phase === 'running' ? u.target : u.phase))).size).toBe(users.length)
    await Promise.all(states.map((s) => ctx.spawner.stop(s, { graceMs: 0 })))
  }, 60_000)

  it('lists the pods of one hub id, with the raw names, as a new replica finds orphans', async () => {
    const mine = await start(ctx.spawner, request('Zoë.O', { server: 'Lab 1', hubId: 'hub-A' }).req)
    const theirs = await start(ctx.spawner, request('zoe', { hubId: 'hub-B' }).req)
    const restarted = ctx.make()
    const found = await restarted.list!('hub-A')
    expect(found).toEqual([
      {
        user: 'Zoë.O',
        server: 'Lab 1',
        state: expect.objectContaining({ pod: mine.pod, uid: mine.uid }),
      },
    ])
    expect(restarted.instanceKey(found[0].state)).toBe(ctx.spawner.instanceKey(mine))
    expect((await restarted.poll(found[0].state)).phase).toBe('running')
    expect((await restarted.list!('hub-B')).map((f) => f.user)).toEqual(['zoe'])
    await restarted.stop(found[0].state, { graceMs: 0 })
    await ctx.spawner.stop(theirs, { graceMs: 0 })
    expect(await restarted.list!('hub-A')).toEqual([])
  }, 60_000)

  it('tells the hub of a pod that ended on its own (onExit), and poll says stopped with the exit code', async () => {
    const exited: string[] = []
    ctx.spawner.onExit!((s) => exited.push(String(s.pod)))
    const state = await start(ctx.spawner, request('exiter').req)
    const status = await ctx.spawner.poll(state)
    if (status.phase !== 'running') throw new Error('not running')
    await waitFor('the server to answer', () => answers(status.url))
    await fetch(`${status.url}exit`).catch(() => {})
    await waitFor('onExit', () => exited.includes(String(state.pod)))
    expect(await ctx.spawner.poll(state)).toMatchObject({ phase: 'stopped', exitCode: 0 })
    await ctx.spawner.stop(state, { graceMs: 0 })
  }, 30_000)
})

it('reports a server that exits while starting with its exit code and last log lines', async () => {
  const { fake, settings, spawner } = await setup({
    cmd: ['sh', '-c', 'echo starting; echo "ModuleNotFoundError: No module named jupyterhub" >&2; exit 3'],
    args: [],
  })
  const said =
    /^the server's pod ended \(exit code 3, Error\); its last lines:\nstarting\nModuleNotFoundError: No module named jupyterhub$/
  // the start fails when the exit comes first, else poll says it (the hub polls right after start)
  const started = await start(spawner, request('crasher').req).catch((err: Error) => err)
  if (started instanceof Error) {
    expect(started.message).toMatch(said)
    expect(fake.objects('pods', settings.namespace)).toEqual([]) // deleted
  } else {
    const status = await waitFor('the exit', async () => {
      const s = await spawner.poll(started)
      return s.phase === 'stopped' ? s : undefined
    })
    expect(status.reason).toMatch(said)
    expect(status.exitCode).toBe(3)
    await spawner.stop(started, { graceMs: 0 })
  }
}, 30_000)

describe('checks against the Kubernetes object schemas', () => {
  it('the fake API server refuses unknown fields and wrong types with 422 naming the field', async () => {
    const fake = await startFakeKubeApi()
    fakes.push(fake)
    const post = (body: unknown) =>
      fetch(`${fake.url}/api/v1/namespaces/x/pods`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const bad = await post({
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'i', bogus: 1, ports: [{ containerPort: '80' }] }] },
    })
    expect(bad.status).toBe(422)
    const { message, reason } = (await bad.json()) as { message: string; reason: string }
    expect(reason).toBe('Invalid')
    expect(message).toContain('spec.containers[0].bogus: unknown field')
    expect(message).toContain('spec.containers[0].ports[0].containerPort: expected a number')
    expect((await post({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i' }] } })).status).toBe(
      201,
    )
  })

  it('settings with a Kubernetes piece the schema does not know fail at startup naming the key', () => {
    const r = kubernetesSettings.safeParse({ tolerations: [{ key: 'a', efect: 'NoSchedule' }] })
    expect(r.success).toBe(false)
    expect(JSON.stringify(r.error?.issues)).toContain('V1Toleration.efect: unknown field')
    expect(r.error?.issues[0].path).toEqual(['tolerations', 0])
    expect(kubernetesSettings.safeParse({ podNameTemplate: 'jupyter' }).success).toBe(false) // no {username}
    expect(kubernetesSettings.safeParse({ cpuLimit: 'lots' }).success).toBe(false)
    expect(kubernetesSettings.safeParse({ securityContext: { runAsUser: 0 } }).success).toBe(false)
    expect(kubernetesSettings.safeParse({ informer: { watchQuietSeconds: 0 } }).success).toBe(false)
  })
})
