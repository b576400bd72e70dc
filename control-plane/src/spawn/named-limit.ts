// The named server limit (hub.namedServerLimitPerUser, JupyterHub's named_server_limit_per_user):
// most named servers of one user starting, running or stopping at once. Judged in the admission
// script (throttle.ts) with the spawn about to begin recorded in the same step, so two starts of a
// user's named servers, on one replica or two, cannot both take the last place.
import { BadRequest } from '../../../runtime/src/errors'

/** A named server refused because its owner has `limit` others active: 400, worded as JupyterHub's ("User NAME already has…"). */
export class NamedServerLimitReached extends BadRequest {
  constructor(user: string, count: number, limit: number) {
    super(`User ${user} already has ${count} named servers running (limit ${limit})`, 'limit')
  }
}

/**
 * Lua: sets `named` to the number of `user`'s named servers other than `server` that are active:
 * recorded not stopped (members of the active set `activeKey`, "USER/NAME", for the names in the
 * user's server set `userServersKey`), or admitted and not recorded yet (members of `spawning`,
 * "USER/NAME#FENCE"). User names hold no "/", so the prefix "USER/" is the user's own.
 */
export const COUNT_NAMED_LUA = `
local named, seen, prefix = 0, {}, user .. '/'
for _, name in ipairs(redis.call('SMEMBERS', userServersKey)) do
  if name ~= '' and name ~= server and redis.call('SISMEMBER', activeKey, prefix .. name) == 1 then
    seen[name] = true
    named = named + 1
  end
end
for _, m in ipairs(spawning) do
  local ref = string.match(m, '^(.*)#%d+$') or m
  if string.sub(ref, 1, #prefix) == prefix then
    local name = string.sub(ref, #prefix + 1)
    if name ~= '' and name ~= server and not seen[name] then
      seen[name] = true
      named = named + 1
    end
  end
end
`
