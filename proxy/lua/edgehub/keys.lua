-- Redis key names: the contract with control-plane/src/state/keys.ts (docs/redis-schema.md).
-- Pure: no ngx, usable from busted.
local type = type
local ipairs = ipairs
local error = error


local _M = {}


_M.TABLES = { "routes", "keys", "tokens", "revoked", "users", "access", "settings" }

_M.SESSION_COOKIE = "edgehub-session"
_M.XSRF_COOKIE = "edgehub-xsrf"
-- a user's host with subdomainHost: the host-only cookie set by the hand-off (handoff.lua)
_M.HOST_COOKIE = "edgehub-host-session"
_M.COOKIE_VERSION = "v1"

-- Max-merge into the activity hash, run by the proxy (activity.lua) and the hub (state/activity.ts):
-- KEYS[1] the hash; ARGV field, epoch ms, ...; a value is written only over a smaller or unreadable
-- one. Returns the number of fields given.
_M.ACTIVITY_MERGE_SCRIPT = [[
local h = KEYS[1]
for i = 1, #ARGV, 2 do
  local cur = tonumber(redis.call('HGET', h, ARGV[i]) or '')
  if not cur or tonumber(ARGV[i + 1]) > cur then
    redis.call('HSET', h, ARGV[i], ARGV[i + 1])
  end
end
return #ARGV / 2
]]

_M.STREAM_FIELDS = { table = "t", key = "k", op = "o", value = "v", set = "set", del = "del" }


local is_table = {}
for _, t in ipairs(_M.TABLES) do
    is_table[t] = true
end
_M.IS_TABLE = is_table


-- new("edgehub:") -> { prefix, version, changes, activity, tables = { routes = "edgehub:proxy:routes", ... } }
function _M.new(prefix)
    if type(prefix) ~= "string" then
        error("prefix must be a string", 2)
    end
    local tables = {}
    for _, t in ipairs(_M.TABLES) do
        tables[t] = prefix .. "proxy:" .. t
    end
    return {
        prefix = prefix,
        version = prefix .. "proxy:version",
        changes = prefix .. "proxy:changes",
        activity = prefix .. "activity",
        tables = tables,
    }
end


return _M
