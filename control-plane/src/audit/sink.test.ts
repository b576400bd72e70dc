import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Deps } from '../deps'
import { createLogger } from '../../../runtime/src/log'
import { auditSink } from './sink'
import type { AuditEvent } from './events'

const event: AuditEvent = {
  time: '2026-01-01T00:00:00.000Z',
  action: 'logout',
  outcome: 'success',
  actor: { kind: 'user', name: 'ann', via: 'cookie' },
  target: 'ann',
  client_address: '127.0.0.1',
  request_id: 'r1',
}
const depsWith = (audit: { file?: string }) =>
  ({
    config: { audit, logLevel: 'error' },
    log: createLogger('test', { level: 'error', write: () => true }),
  }) as unknown as Deps

afterEach(() => vi.restoreAllMocks())

describe('audit sink', () => {
  it("writes to the hub's stream as component hub.audit even when logLevel is error", () => {
    const written: string[] = []
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      written.push(String(s))
      return true
    })
    auditSink(depsWith({}))(event)
    expect(written.map((l) => JSON.parse(l))).toEqual([{ ...event, level: 'info', component: 'hub.audit' }])
  })

  it('appends one JSON line per event to audit.file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-sink-'))
    try {
      const sink = auditSink(depsWith({ file: join(dir, 'a.log') }))
      sink(event)
      sink({ ...event, request_id: 'r2' })
      const lines = readFileSync(join(dir, 'a.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
      expect(lines.map((l) => l.request_id)).toEqual(['r1', 'r2'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
