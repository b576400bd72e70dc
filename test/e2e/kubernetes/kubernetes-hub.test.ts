// The kubernetes spawner in a real stack (Redis, `edgehub hub`, `edgehub proxy`) against the FAKE
// API server (test/support/fake-kube-api.ts, in this test's process; the hub reaches it through a
// kubeconfig). A user's server is a pod whose fake kubelet runs a small HTTP server at the pod's own
// loopback address: reached through the proxy, its Kubernetes events in the spawn's progress, its
// claim kept at stop; an unschedulable profile fails with the scheduler's message; a profile not
// offered is a 400.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { json } from '../../support/client'
import { envServer } from '../../support/servers'
import { person, rootOf, serverRouted, stopServer, type Admin } from '../../support/people'
import { type FakeKubeApi, startFakeKubeApi } from '../../support/fake-kube-api'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'

/** Answers every GET with 200 and the pod's name (HOSTNAME), bound to the pod's address. */
const POD_SERVER = envServer('HOSTNAME')

describe('kubernetes spawner in a stack, on the fake API server', () => {
  let fake: FakeKubeApi
  let stack: Stack
  let root: Admin
  let ann: Admin
  const namespace = `hub-${process.pid}`
  const pods = () => fake.objects('pods', namespace)

  beforeAll(async () => {
    fake = await startFakeKubeApi()
    const port = await freePort()
    stack = await startStack({
      spawner: {
        kind: 'kubernetes',
        kubernetes: {
          kubeconfig: fake.kubeconfig,
          namespace,
          image: 'fake.invalid/pod-server:1',
          cmd: ['python3', '-c', POD_SERVER],
          args: ['$(POD_IP)', String(port)],
          port,
          unschedulableTimeoutSeconds: 2,
          profiles: [
            { slug: 'cpu', displayName: 'CPU', default: true },
            { slug: 'gpu', displayName: 'GPU', overrides: { gpus: 1, nodeSelector: { 'example.com/gpu': 'a100' } } },
            { slug: 'staff', displayName: 'Staff only', groups: ['staff'] },
          ],
        },
      },
    })
    root = await rootOf(stack)
    ann = await person(root, 'ann')
  }, 180_000)
  afterAll(async () => {
    await stack?.stop()
    await fake?.close()
  }, 60_000)

  const post = (who: Admin, body: unknown) =>
    fetch(`${stack.url}/hub/api/users/${who.name}/server`, {
      method: 'POST',
      headers: { ...who.auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  const progress = async (who: Admin) =>
    (
      await (
        await fetch(`${stack.url}/hub/api/users/${who.name}/server/progress`, {
          headers: who.auth,
          signal: AbortSignal.timeout(10_000),
        })
      ).text()
    )
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { message: string; failed?: boolean })

  it("starts a pod reached through the proxy, shows the pod's events as progress, and keeps the claim at stop", async () => {
    expect([201, 202]).toContain((await post(ann, {})).status)
    await serverRouted(stack.url, ann.token, 'ann')
    expect(await (await ann.client.get('/user/ann/')).text()).toBe('jupyter-ann')
    const messages = (await progress(ann)).map((e) => e.message)
    expect(messages).toEqual(
      expect.arrayContaining([
        'Creating pod jupyter-ann',
        expect.stringMatching(/^Scheduled: Successfully assigned /),
        'Pulling: Pulling image "fake.invalid/pod-server:1"',
      ]),
    )
    const model = await json(await fetch(`${stack.url}/hub/api/users/ann`, { headers: ann.auth }))
    expect(model.servers[''].user_options).toEqual({ profile: 'cpu' })
    await stopServer(stack.url, ann.token, 'ann')
    await waitFor('the pod to be gone', () => pods().length === 0)
    expect(fake.objects('persistentvolumeclaims', namespace).map((c) => c.metadata.name)).toEqual(['claim-ann'])
  })

  it("fails a spawn no node can take with the scheduler's message, and deletes the pod", async () => {
    // the failure comes within the hub's wait for a quick start: the POST answers it (JupyterHub's 500)
    const res = await post(ann, { profile: 'gpu' })
    const said = /FailedScheduling: 0\/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity\/selector/
    if (res.status === 500) expect((await json(res)).message).toMatch(said)
    else expect([201, 202]).toContain(res.status)
    const failed = await waitFor('the spawn to fail', async () => (await progress(ann)).find((e) => e.failed), {
      timeoutMs: 30_000,
    })
    expect(failed.message).toMatch(/^Spawn failed: FailedScheduling: 0\/3 nodes are available: /)
    await waitFor('the pod to be gone', () => pods().length === 0)
  })

  it('refuses a profile not offered to the user: 400 naming the field, no pod', async () => {
    const res = await post(ann, { profile: 'staff' })
    expect(res.status).toBe(400)
    expect((await json(res)).message).toMatch(/^user_options\.profile: /)
    expect(pods()).toEqual([])
  })
})
