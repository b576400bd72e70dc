// What the kubernetes spawner's pod informer costs per pod: pods made on the FAKE API server (no
// processes), then an informer over N of them, with the heap measured after a full garbage collection
// before and after its first list. Used by bench/scenarios/kube-informer.ts (figures) and
// spawners/src/kubernetes/informer-memory.test.ts (a generous bound).
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { type InformerSource, SharedInformer } from '../../spawners/src/kubernetes/informer'
import { kubeApi, loadKubeConfig } from '../../spawners/src/kubernetes/api'
import { podRecord, type PodRecord } from '../../spawners/src/kubernetes/pod-status'
import { podAnnotations, podLabels, SERVER_PODS } from '../../spawners/src/kubernetes/labels'
import { waitFor } from '../../runtime/src/wait'
import { type FakeKubeApi, startFakeKubeApi } from './fake-kube-api'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** The heap after full collections, once two in a row agree within a KiB. */
function heap(): number {
  let last = Number.POSITIVE_INFINITY
  for (let i = 0; i < 20; i++) {
    gc()
    const used = process.memoryUsage().heapUsed
    if (Math.abs(used - last) < 1024) return used
    last = used
  }
  return last
}

const quiet = { info() {}, warn() {} }
const options = { what: 'pods', resyncMs: 3_600_000, watchTimeoutSeconds: 3600, quietMs: 3_600_000, log: quiet }

/**
 * An informer over the pods of `served` (a list as JSON). A function of its own: temporaries of the
 * caller's frame would otherwise stay alive across the measurement.
 */
async function tracked(served: Buffer): Promise<SharedInformer<PodRecord>> {
  const source: InformerSource = {
    list: async () => ({ items: JSON.parse(served.toString()), resourceVersion: '1' }),
    watch: async () => ({ abort() {} }),
  }
  const informer = new SharedInformer(source, podRecord, options)
  await informer.ready()
  return informer
}

/** The pods of a namespace as a list's JSON, off the heap (in a Buffer). */
const listed = (fake: FakeKubeApi, namespace: string) => Buffer.from(JSON.stringify(fake.objects('pods', namespace)))

export interface InformerMemory {
  pods: number
  bytes: number
  bytesPerPod: number
}

/** Bytes of heap an informer tracking `n` pods holds, for each n of `counts`. */
export async function informerMemory(counts: number[]): Promise<InformerMemory[]> {
  const fake = await startFakeKubeApi({ kubelet: false, bookmarkMs: 0 })
  try {
    for (const n of counts) {
      const namespace = `mem-${n}`
      for (let i = 0; i < n; i++) {
        const owner = { user: `user${i}`, server: '', hubId: 'bench-hub', baseUrl: `/user/user${i}/` }
        fake.create('pods', namespace, {
          metadata: { name: `jupyter-user${i}`, labels: podLabels(owner), annotations: podAnnotations(owner) },
          spec: {
            containers: [
              { name: 'notebook', image: 'quay.io/jupyter/base-notebook:latest', ports: [{ containerPort: 8888 }] },
            ],
          },
        })
      }
      await waitFor(
        `${n} pods running`,
        () => fake.objects('pods', namespace).filter((p) => p.status.phase === 'Running').length === n,
        { timeoutMs: 60_000 },
      )
    }
    // through HTTP first: the informer really lists and watches the fake's 1,000 pods
    const kc = loadKubeConfig({ kubeconfig: fake.kubeconfig })
    for (const n of counts) {
      const informer = new SharedInformer(kubeApi(kc, `mem-${n}`, SERVER_PODS).pods, podRecord, options)
      await informer.ready()
      informer.close()
      if (informer.size !== n) throw new Error(`the informer has ${informer.size} pods, expected ${n}`)
    }
    // then measured with the list served from memory (parsed JSON, fresh strings as from the
    // network), so that what the heap gains is the cache alone, not connections or the fake's own
    const out: InformerMemory[] = []
    for (const n of counts) {
      const served = listed(fake, `mem-${n}`)
      const before = heap()
      const informer = await tracked(served)
      const bytes = heap() - before
      if (informer.size !== n) throw new Error(`the informer has ${informer.size} pods, expected ${n}`)
      informer.close()
      out.push({ pods: n, bytes, bytesPerPod: Math.round(bytes / n) })
    }
    return out
  } finally {
    await fake.close()
  }
}
