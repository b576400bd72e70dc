// Checks before a load run that a system answers as the benchmark expects: the upstream's 200
// with credentials, and (for the edge proxy) a refusal without.
import { request } from 'undici'
import type { WrkRequest } from './wrk'

export async function expectAnswer(base: string, r: WrkRequest, status: number, what: string): Promise<void> {
  const res = await request(`${base}${r.path}`, { method: 'GET', headers: r.headers })
  const body = await res.body.text()
  if (res.statusCode !== status || (status === 200 && body !== 'ok\n')) {
    throw new Error(`${what}: GET ${r.path} answered ${res.statusCode} ${body.slice(0, 80)}, expected ${status}`)
  }
}
