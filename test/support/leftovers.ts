// Hubs and proxies a test run leaves behind. vitest.config.ts names this file as a globalSetup: it
// gives the run a mark (HARNESS_RUN in the environment, which the test processes inherit), the harness
// puts the mark on every `edgehub hub` and `edgehub proxy` it starts, and when the run ends the
// teardown fails the run naming each marked hub or proxy still alive (and stops it by pid). Other
// runs on the same machine carry other marks and are left alone. (Redis servers are not checked here:
// redis-server writes its process title over its environment, so its mark cannot be read.)
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { procStat, signal } from '../../runtime/src/process-tree'
import { waitFor } from '../../runtime/src/wait'

/** The environment variable that carries a run's mark. */
export const RUN_MARK = 'HARNESS_RUN'

/** The mark for a process the harness starts: this run's, or none outside a test run (benchmarks). */
export function runMark(): Record<string, string> {
  const run = process.env[RUN_MARK]
  return run ? { [RUN_MARK]: run } : {}
}

export interface Leftover {
  pid: number
  command: string
}

/** Live `edgehub hub` and `edgehub proxy` processes carrying run's mark. */
export function leftoverParts(run: string): Leftover[] {
  const out: Leftover[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean)
      const bin = args.findIndex((a) => a.endsWith('/edgehub.js'))
      if (bin < 0 || !['hub', 'proxy'].includes(args[bin + 1])) continue
      if (procStat(Number(entry))?.state === 'Z') continue
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`${RUN_MARK}=${run}`)) continue
      out.push({ pid: Number(entry), command: args.slice(bin).join(' ') })
    } catch {
      /* gone, or another user's */
    }
  }
  return out
}

/** A vitest globalSetup: the run's mark, and the check for what the run left behind. */
export default function setup() {
  const run = `${process.pid}-${randomBytes(4).toString('hex')}`
  process.env[RUN_MARK] = run
  return async () => {
    const left = leftoverParts(run)
    // SIGTERM (a proxy stops its nginx), SIGKILL to what outlives 10 s
    for (const { pid } of left) signal(pid, 'SIGTERM')
    const gone = (pid: number) => [undefined, 'Z'].includes(procStat(pid)?.state)
    await waitFor('the leftovers to exit', () => left.every((l) => gone(l.pid)), { timeoutMs: 10_000 }).catch(() => {
      for (const { pid } of left) signal(pid, 'SIGKILL')
    })
    if (!left.length) return
    process.exitCode = 1 // vitest reports a teardown's error but would still exit 0
    throw new Error(
      `the tests left ${left.length} hub or proxy process(es) running (stopped now): ${left
        .map((l) => `pid ${l.pid}: ${l.command}`)
        .join('; ')}`,
    )
  }
}
