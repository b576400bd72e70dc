// Background work that must run on one replica at a time. Replicas elect a leader through one Redis
// lease (renewed every renewMs, expiring after leaseMs); only the leader runs the jobs, each on its
// own schedule. When the leader dies, another replica takes over within leaseMs + renewMs.
// Jobs must tolerate a short overlap (a stalled old leader): they work under per-server locks.
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from '../../../runtime/src/log'

// KEYS: lease. ARGV: me, lease ms. 1 when we hold the lease (renewed or newly taken).
const CLAIM = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`
const RESIGN = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/** The leader lease's defaults: valid for LEADER_LEASE_MS, claimed or renewed every LEADER_RENEW_MS. */
export const LEADER_LEASE_MS = 5000
export const LEADER_RENEW_MS = 1000

export interface Job {
  name: string
  everyMs: number
  run(): Promise<void>
}

export interface Leadership {
  readonly id: string
  isLeader(): boolean
  /** Stops the jobs and gives the lease up, so another replica takes over at once. */
  stop(): Promise<void>
}

export function startJobs(
  redis: Redis,
  leaseKey: string,
  jobs: Job[],
  log: Logger,
  { leaseMs = LEADER_LEASE_MS, renewMs = LEADER_RENEW_MS }: { leaseMs?: number; renewMs?: number } = {},
): Leadership {
  const id = randomBytes(8).toString('hex')
  const timers: NodeJS.Timeout[] = []
  let stopped = false
  // We act as leader only until our lease may have run out: measured from when the claim was sent,
  // with a margin, so a stalled or partitioned leader stops before another one starts.
  let validUntil = 0
  const isLeader = () => !stopped && performance.now() < validUntil // monotonic: immune to clock steps

  const claim = async () => {
    const sent = performance.now()
    try {
      const won = (await redis.eval(CLAIM, 1, leaseKey, id, leaseMs)) === 1
      if (won && !isLeader()) log.info('this replica is now the leader', { replica: id })
      if (!won && isLeader()) log.warn('lost the leader lease', { replica: id })
      validUntil = won ? sent + leaseMs * 0.8 : 0
    } catch (err) {
      log.debug('failed to renew the leader lease', { err }) // the lease runs out by itself
    }
  }
  timers.push(setInterval(() => void claim(), renewMs))
  void claim()

  for (const job of jobs) {
    let running = false
    const tick = async () => {
      if (running || !isLeader()) return
      running = true
      try {
        await job.run()
      } catch (err) {
        log.error(`failed to run job ${job.name}`, { err })
      } finally {
        running = false
      }
    }
    timers.push(setInterval(tick, job.everyMs))
  }
  return {
    id,
    isLeader,
    async stop() {
      const was = isLeader()
      stopped = true
      timers.forEach(clearInterval)
      if (was) await redis.eval(RESIGN, 1, leaseKey, id).catch(() => {})
    },
  }
}
