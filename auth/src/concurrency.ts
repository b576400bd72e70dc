// A bound on checks that cost a process or a connection each (PAM's helper, an LDAP bind): at most
// `running` at once, `waiting` more queued, and anything beyond answered at once as busy, so a burst
// of logins (they are counted by the throttle only once checked) cannot exhaust the machine.
import { HubError } from '../../runtime/src/errors'

export class Busy extends HubError {
  constructor() {
    super(503, 'Too many logins are being checked at once. Try again in a moment.', 'login_busy', { expose: true })
  }
}

export function concurrencyLimit(running: number, waiting: number) {
  let active = 0
  const queue: Array<() => void> = []
  return async function run<T>(fn: () => Promise<T>): Promise<T> {
    if (active >= running) {
      if (queue.length >= waiting) throw new Busy()
      await new Promise<void>((resolve) => queue.push(resolve))
    } else active++
    try {
      return await fn()
    } finally {
      const next = queue.shift()
      if (next) next()
      else active--
    }
  }
}
