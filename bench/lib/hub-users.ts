// Users of a running hub stack for load through the proxy: created in the hub's state, each with a
// real session (cookie), a real API token and a route to the benchmark upstream.
import type { Deps } from '../../test/support/hub-state'
import { SESSION_COOKIE } from '../../control-plane/src/protocol'
import type { BenchUser } from './edge'

export async function hubUsers(deps: Deps, names: string[], upstreamPort: number): Promise<BenchUser[]> {
  const out: BenchUser[] = []
  for (const name of names) {
    await deps.users.create(name, { approved: true })
    const { cookie } = await deps.sessions.create(name)
    const { token } = await deps.tokens.issue(name, { note: 'benchmark' })
    await deps.tables.set('routes', `/user/${name}/`, {
      kind: 'user',
      target: `127.0.0.1:${upstreamPort}`,
      user: name,
      server: '',
      token: 'bench-server-secret',
    })
    out.push({ name, cookie: `${SESSION_COOKIE}=${cookie}`, token })
  }
  return out
}
