// spawner.kubernetes settings for tests against the FAKE API server (fake-kube-api.ts): its kubeconfig,
// a namespace of the test's own, the contract's small HTTP server as the container command (bound to
// the pod's loopback address, $(POD_IP)), quick watchdog and unschedulable bounds.
import { randomBytes } from 'node:crypto'
import { CONTRACT_SERVER } from '../contracts/spawner-contract'
import type { FakeKubeApi } from './fake-kube-api'

export function fakeClusterSettings(fake: FakeKubeApi, port: number, more: Record<string, unknown> = {}) {
  return {
    kubeconfig: fake.kubeconfig,
    namespace: `test-${randomBytes(4).toString('hex')}`,
    image: 'fake.invalid/contract-server:1',
    cmd: ['python3', '-c', CONTRACT_SERVER],
    args: ['$(POD_IP)', String(port)],
    port,
    informer: { watchQuietSeconds: 3, resyncSeconds: 600 },
    unschedulableTimeoutSeconds: 2,
    ...more,
  }
}
