// The spawner contract for the kubernetes spawner against a REAL cluster, when KUBECONFIG is set
// (skipped otherwise, saying so). The same suite the fake API server passes (spawners.test.ts):
//   KUBECONFIG=~/.kube/config npx vitest run test/contracts/kubernetes-real.test.ts
// Run it where the cluster's pod IPs are reachable (a pod in the cluster, a node, or a cluster whose
// pod network is routed to this machine). Settings by environment variable:
//   EDGEHUB_KUBE_TEST_NAMESPACE  the namespace (default: default); pods are deleted at the end
//   EDGEHUB_KUBE_TEST_IMAGE      an image with python3 (default: python:3.12-slim)
//   EDGEHUB_KUBE_TEST_STORAGE=1  also make a claim per user (needs a default storage class); they
//                                are kept, as in production: delete claim-ct* afterwards
import { describe, it } from 'vitest'
import { tmpdir } from 'node:os'
import { SPAWNERS } from '../../spawners/src'
import type { KubernetesSpawner } from '../../spawners/src/kubernetes'
import { CONTRACT_SERVER, spawnerContract } from './spawner-contract'

const kubeconfig = process.env.KUBECONFIG
const quiet = { info() {}, warn() {} }

if (!kubeconfig)
  describe.skip('spawner contract: kubernetes on a real cluster (skipped: KUBECONFIG is not set)', () => {
    it('runs', () => {})
  })
else
  spawnerContract('kubernetes on a real cluster', async () => {
    const settings = SPAWNERS.kubernetes.settings.parse({
      kubeconfig: kubeconfig.split(':')[0],
      namespace: process.env.EDGEHUB_KUBE_TEST_NAMESPACE ?? 'default',
      image: process.env.EDGEHUB_KUBE_TEST_IMAGE ?? 'python:3.12-slim',
      cmd: ['python3', '-c', CONTRACT_SERVER],
      args: ['$(POD_IP)', '8888'],
      storage: { enabled: process.env.EDGEHUB_KUBE_TEST_STORAGE === '1' },
      podNameTemplate: 'edgehub-contract-{username}-{servername}',
      unschedulableTimeoutSeconds: 60,
    })
    const made: KubernetesSpawner[] = []
    return {
      make() {
        const s = SPAWNERS.kubernetes.create(settings, { dataDir: tmpdir(), log: quiet })
        made.push(s)
        return s
      },
      async cleanup() {
        for (const s of made) s.close()
      },
    }
  })
