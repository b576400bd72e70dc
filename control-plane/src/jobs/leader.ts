// Periodic work that must run on one replica at a time: a Redis lease per job, renewed by its holder.
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from '../log'

const CLAIM = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`

export interface Job {
  name: string
  everyMs: number
  run(): Promise<void>
}

/** Runs each job every everyMs on whichever replica holds its lease. Returns a stop function. */
export function startJobs(redis: Redis, keyFor: (job: string) => string, jobs: Job[], log: Logger): () => void {
  const me = randomBytes(8).toString('hex')
  const timers: NodeJS.Timeout[] = []
  let stopped = false
  for (const job of jobs) {
    let running = false
    const tick = async () => {
      if (running || stopped) return
      running = true
      try {
        const leader = await redis.eval(CLAIM, 1, keyFor(job.name), me, Math.max(job.everyMs * 3, 5000))
        if (leader) await job.run()
      } catch (err) {
        log.error(`failed to run job ${job.name}`, { err })
      } finally {
        running = false
      }
    }
    timers.push(setInterval(tick, job.everyMs))
    void tick()
  }
  return () => {
    stopped = true
    timers.forEach(clearInterval)
  }
}
