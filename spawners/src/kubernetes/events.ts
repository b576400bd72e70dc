// Kubernetes events about users' pods, as progress lines: "Scheduled: Successfully assigned …",
// "Pulling: Pulling image …", "FailedScheduling: 0/3 nodes are available: …".

export interface EventRecord {
  pod: string
  podUid: string
  reason: string
  message: string
}

interface RawEvent {
  metadata?: { name?: string }
  involvedObject?: { kind?: string; name?: string; uid?: string }
  reason?: string
  message?: string
}

export function eventRecord(object: unknown): { key: string; record: EventRecord } | undefined {
  const e = object as RawEvent
  if (!e?.metadata?.name || e.involvedObject?.kind !== 'Pod' || !e.involvedObject.name) return undefined
  return {
    key: e.metadata.name,
    record: {
      pod: e.involvedObject.name,
      podUid: e.involvedObject.uid ?? '',
      reason: e.reason ?? '',
      message: (e.message ?? '').slice(0, 400),
    },
  }
}

export const progressLine = (e: EventRecord): string =>
  e.reason && e.message ? `${e.reason}: ${e.message}` : e.reason || e.message || 'event'
