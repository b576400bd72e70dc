// The active server limit (JupyterHub's active_server_limit): most servers running, starting or
// stopping at once across the hub. Counted in Redis, so every replica sees the same number: the
// set of servers whose record is not stopped (state/servers.ts keeps it), plus the spawns admitted
// but not recorded yet (the pending-spawn entries of throttle.ts), each server once.
import { HubError } from '../../../runtime/src/errors'

/** JupyterHub's answer, word for word. */
export const ACTIVE_LIMIT_MESSAGE = 'Active user limit exceeded. Try again in a few minutes.'

/** A start refused because hub.activeServerLimit servers are active: 429, no Retry-After (as JupyterHub). */
export class ActiveServerLimitReached extends HubError {
  constructor() {
    super(429, ACTIVE_LIMIT_MESSAGE, 'active_server_limit')
  }
}

/**
 * Lua: sets `active` to the number of active servers. Expects `spawning` (members of the pending-spawn
 * set, "USER/SERVER#FENCE") and the active set's key in `activeKey` (members "USER/SERVER").
 */
export const COUNT_ACTIVE_LUA = `
local active = redis.call('SCARD', activeKey)
for _, m in ipairs(spawning) do
  local ref = string.match(m, '^(.*)#%d+$') or m
  if redis.call('SISMEMBER', activeKey, ref) == 0 then active = active + 1 end
end
`
