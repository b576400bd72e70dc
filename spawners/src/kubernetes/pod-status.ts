// What the spawner keeps of a pod (a few fields, so a thousand pods cost little) and what it makes of
// them: the server's status for poll, and why a start cannot succeed.
import { SERVER_CONTAINER } from './manifests'

export interface PodRecord {
  uid: string
  phase: string
  podIP: string
  deleting: boolean
  /** The scheduler's message while no node fits the pod (PodScheduled False, Unschedulable). */
  unschedulable?: string
  /** The server container waiting for a reason that will not pass by itself (ImagePullBackOff: …). */
  stuck?: string
  /** The server container's end: exit code and reason. */
  exitCode?: number
  exitReason?: string
}

/** Waiting reasons of a container that mean it will not start without someone changing something. */
const STUCK = new Set([
  'ImagePullBackOff',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
])

interface RawPod {
  metadata?: { name?: string; uid?: string; deletionTimestamp?: unknown }
  status?: {
    phase?: string
    podIP?: string
    conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>
    containerStatuses?: Array<{
      name?: string
      state?: {
        waiting?: { reason?: string; message?: string }
        terminated?: { exitCode?: number; reason?: string }
      }
    }>
  }
}

/** The record of a pod as the API server sends it (a list item, a watch event). */
export function podRecord(object: unknown): { key: string; record: PodRecord } | undefined {
  const pod = object as RawPod
  const name = pod?.metadata?.name
  if (!name) return undefined
  const st = pod.status ?? {}
  const scheduled = st.conditions?.find((c) => c.type === 'PodScheduled')
  const server = st.containerStatuses?.find((c) => c.name === SERVER_CONTAINER)
  const waiting = server?.state?.waiting
  const terminated = server?.state?.terminated
  const record: PodRecord = {
    uid: pod.metadata?.uid ?? '',
    phase: st.phase ?? 'Pending',
    podIP: st.podIP ?? '',
    deleting: !!pod.metadata?.deletionTimestamp,
  }
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable')
    record.unschedulable = scheduled.message || 'no node can run the pod'
  if (waiting?.reason && STUCK.has(waiting.reason))
    record.stuck = waiting.message ? `${waiting.reason}: ${waiting.message}` : waiting.reason
  if (terminated) {
    record.exitCode = terminated.exitCode
    record.exitReason = terminated.reason
  }
  return { key: name, record }
}

export const ended = (r: PodRecord) => r.phase === 'Succeeded' || r.phase === 'Failed'

/** Running and reachable: the proxy can be pointed at it. */
export const serving = (r: PodRecord) => r.phase === 'Running' && !!r.podIP && !r.deleting

export function exitMessage(r: PodRecord): string {
  const parts = [r.exitCode === undefined ? undefined : `exit code ${r.exitCode}`, r.exitReason].filter(Boolean)
  return `the server's pod ended (${parts.join(', ') || r.phase})`
}
