// audit(c, action, ...): one event for an action taken in request c, its actor, client address and
// request id read from the request (the proxy's X-Request-Id when it came through the proxy).
import type { Context } from 'hono'
import type { HubEnv } from '../http/env'
import { clientAddress } from '../http/client-address'
import type { Actor, AuditAction, AuditEvent, Outcome } from './events'
import { auditSink } from './sink'

export function actorOf(c: Context<HubEnv>): Actor {
  const service = c.var.service
  if (service) return { kind: 'service', name: service.name }
  const id = c.var.identity
  return id ? { kind: 'user', name: id.user.name, via: id.via } : null
}

/** An outcome from the status the hub answered with. */
export function outcomeOf(status: number): Outcome {
  if (status < 400) return 'success'
  return status === 401 || status === 403 ? 'denied' : 'failure'
}

export function audit(
  c: Context<HubEnv>,
  action: AuditAction,
  event: { target: string | null; outcome?: Outcome; actor?: Actor; [detail: string]: unknown },
): void {
  const { target, outcome = 'success', actor = actorOf(c), ...details } = event
  const ev: AuditEvent = {
    time: new Date().toISOString(),
    action,
    outcome,
    actor,
    target,
    client_address: clientAddress(c),
    request_id: c.var.requestId,
    ...details,
  }
  auditSink(c.var.deps)(ev)
}
