// Where audit events go: JSON lines on the hub's log stream (component "hub.audit"), or appended to
// audit.file. Written whatever logLevel says: an audit log that a log level can silence is none.
import { appendFileSync } from 'node:fs'
import type { Deps } from '../deps'
import type { AuditEvent } from './events'

export type AuditSink = (event: AuditEvent) => void

const sinks = new WeakMap<Deps, AuditSink>()

export function auditSink(deps: Deps): AuditSink {
  let sink = sinks.get(deps)
  if (!sink) {
    sink = makeSink(deps)
    sinks.set(deps, sink)
  }
  return sink
}

function makeSink(deps: Deps): AuditSink {
  const file = deps.config.audit?.file
  if (!file)
    return (ev) => process.stderr.write(`${JSON.stringify({ ...ev, level: 'info', component: 'hub.audit' })}\n`)
  let lastError = 0
  // opened and closed per event, so logrotate may move the file away (no copytruncate needed)
  return (ev) => {
    try {
      appendFileSync(file, `${JSON.stringify(ev)}\n`, { mode: 0o640 })
    } catch (err) {
      if (Date.now() - lastError > 10_000) deps.log.error('cannot write the audit file', { file, err })
      lastError = Date.now()
    }
  }
}
