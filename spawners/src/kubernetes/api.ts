// The spawner's way to the API server: the client from the configured kubeconfig (or the pod's own
// service account in the cluster), and the list-and-watch sources of the shared informers.
import * as k8s from '@kubernetes/client-node'
import type { InformerSource } from './informer'

export interface KubeApi {
  core: k8s.CoreV1Api
  pods: InformerSource
  events: InformerSource
  /** The API server's address, for messages. */
  server: string
}

/** Client settings: a kubeconfig path (else in-cluster or $KUBECONFIG, ~/.kube/config) and a context. */
export function loadKubeConfig(opts: { kubeconfig?: string; context?: string }): k8s.KubeConfig {
  const kc = new k8s.KubeConfig()
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig)
  else kc.loadFromDefault()
  if (opts.context) kc.setCurrentContext(opts.context)
  return kc
}

function watchSource(
  kc: k8s.KubeConfig,
  path: string,
  query: Record<string, string>,
  list: () => Promise<{ items: unknown[]; metadata?: { resourceVersion?: string } }>,
): InformerSource {
  const watch = new k8s.Watch(kc)
  return {
    async list() {
      const l = await list()
      return { items: l.items as never[], resourceVersion: l.metadata?.resourceVersion ?? '' }
    },
    watch: (resourceVersion, timeoutSeconds, onEvent, done) =>
      watch.watch(
        path,
        { ...query, resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) },
        (type, object) => onEvent(type, object),
        (err) => done(err ?? undefined),
      ),
  }
}

export function kubeApi(kc: k8s.KubeConfig, namespace: string, podSelector: string): KubeApi {
  const core = kc.makeApiClient(k8s.CoreV1Api)
  const ns = encodeURIComponent(namespace)
  const eventSelector = 'involvedObject.kind=Pod'
  return {
    core,
    server: kc.getCurrentCluster()?.server ?? '',
    pods: watchSource(kc, `/api/v1/namespaces/${ns}/pods`, { labelSelector: podSelector }, () =>
      core.listNamespacedPod({ namespace, labelSelector: podSelector }),
    ),
    events: watchSource(kc, `/api/v1/namespaces/${ns}/events`, { fieldSelector: eventSelector }, () =>
      core.listNamespacedEvent({ namespace, fieldSelector: eventSelector, limit: 1 }),
    ),
  }
}
