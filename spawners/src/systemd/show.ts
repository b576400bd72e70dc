// What `systemctl show UNIT -p …` says of a server's unit, as a server status.
import type { ServerStatus } from '../spawner'

export const SHOW_PROPERTIES = [
  'LoadState',
  'ActiveState',
  'SubState',
  'ExecMainPID',
  'ExecMainStatus',
  'Result',
  'InvocationID',
]

/** KEY=VALUE lines as a map (values may hold `=`). */
export function parseShow(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split('\n')) {
    const i = line.indexOf('=')
    if (i > 0) out.set(line.slice(0, i).trim(), line.slice(i + 1).trim())
  }
  return out
}

/**
 * The status of the server started as invocation `invocationId` of its unit. A unit that is gone, no
 * longer active, or running a later invocation (started anew by someone else) is this server stopped.
 */
export function unitStatus(
  show: Map<string, string>,
  invocationId: string,
  target: { ip: string; port: number; baseUrl: string },
): ServerStatus {
  const load = show.get('LoadState')
  const active = show.get('ActiveState') ?? ''
  const sub = show.get('SubState') ?? ''
  const current = show.get('InvocationID') ?? ''
  const exit = Number(show.get('ExecMainStatus'))
  const exitCode = Number.isInteger(exit) && show.get('ExecMainStatus') !== '' ? exit : undefined
  if (load === 'not-found') return { phase: 'stopped', reason: 'unit gone' }
  if (invocationId && current && current !== invocationId) return { phase: 'stopped', reason: 'unit started again' }
  if (active === 'active' && (sub === 'running' || sub === 'exited')) {
    if (sub === 'exited') return { phase: 'stopped', exitCode, reason: 'process exited' }
    const t = `${target.ip}:${target.port}`
    return { phase: 'running', target: t, url: `http://${t}${target.baseUrl}` }
  }
  if (active === 'activating' || active === 'reloading') return { phase: 'pending', message: `unit ${active} (${sub})` }
  const result = show.get('Result')
  return {
    phase: 'stopped',
    ...(exitCode !== undefined ? { exitCode } : {}),
    reason:
      active === 'deactivating'
        ? 'unit stopping'
        : result && result !== 'success'
          ? `unit ${result}`
          : 'process exited',
  }
}
