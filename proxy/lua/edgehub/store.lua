-- The local copy of the proxy tables in lua_shared_dict "edgehub": keys "<table>|<field>"
-- holding the raw value from Redis. sync.lua writes; requests read.
--
-- Requests read through per-worker caches of decoded values and of absent fields, so the hot
-- path takes no lock on the big dict. The small dict "edgehub_sync" holds the sync state
-- ("meta|..."), and numbers every write ("seq", and "c|<n>" = the changed "<table>|<field>", the
-- last RING of them); refresh(), once per request, drops what changed since the worker last
-- looked, or everything after a full sync or when it fell further behind than the ring.
local ngx = ngx
local keys = require "edgehub.keys"
local json = require "edgehub.json"
local route = require "edgehub.route"
local crypto = require "edgehub.crypto"
local lrucache = require "resty.lrucache"
local config = require "edgehub.config"

local type = type
local error = error
local pairs = pairs
local tonumber = tonumber
local find = string.find
local sub = string.sub
local floor = math.floor


local _M = {}


local dict = ngx.shared.edgehub
local changes = ngx.shared.edgehub_sync      -- meta|* and the numbered changes
if not dict or not changes then
    error("lua_shared_dict edgehub and edgehub_sync are not configured")
end
_M.dict = dict

local TABLES = keys.TABLES
local IS_TABLE = keys.IS_TABLE
local INVALID = false     -- cached for a value that does not decode or has the wrong shape
local RING = 10000        -- numbered changes kept for workers catching up (edgehub_sync: 8m)
local ALL = "*"           -- a change that replaces every table (full sync)


-- Derived fields computed once per decoded value (the value is shared: never mutate it later).
local PREPARE = {
    routes = function(v)
        if type(v) ~= "table" then return nil end
        local host, port = route.parse_target(v.target)
        if not host then return nil end
        v.host, v.port = host, port
        v.activity = route.activity_key(v)
        if type(v.token) == "string" and v.token ~= "" then
            v.authorization = "token " .. v.token
        end
        return v
    end,
    keys = function(v)
        if type(v) ~= "table" or type(v.secret) ~= "string" then return nil end
        v.raw = crypto.b64url.decode(v.secret)
        if not v.raw or v.raw == "" then return nil end
        return v
    end,
}


-- Per worker, per table: an LRU cache of decoded values, and one of fields known to be absent
-- (kept apart so that the misses of route matching, one or two per distinct path, never push out
-- values); seen = the last change applied to them.
local caches, absent
local seen = -1


-- Tables that hold a handful of entries, whatever the number of users.
local SMALL = { keys = true, settings = true }
local SMALL_ITEMS = 64


local function flush_all()
    if not caches then
        caches, absent = {}, {}
        local n = config.get().cache_items
        for i = 1, #TABLES do
            local t = TABLES[i]
            caches[t] = lrucache.new(SMALL[t] and SMALL_ITEMS or n)
            absent[t] = lrucache.new(SMALL[t] and SMALL_ITEMS or floor(n / 4))
        end
    else
        for t, c in pairs(caches) do
            c:flush_all()
            absent[t]:flush_all()
        end
    end
end


local function forget(key)
    if key == ALL then
        return false
    end
    local bar = find(key, "|", 1, true)
    local t = bar and sub(key, 1, bar - 1)
    local c = t and caches[t]
    if c then
        local field = sub(key, bar + 1)
        c:delete(field)
        absent[t]:delete(field)
    end
    return true
end


-- Drops the cached values that changed since the last call. Call once per request, before get().
function _M.refresh()
    local seq = changes:get("seq") or 0
    if seq == seen then
        return
    end
    if seen < 0 or seq < seen or seq - seen > RING then
        flush_all()
    else
        for n = seen + 1, seq do
            local key = changes:get("c|" .. n)
            if not key or not forget(key) then
                flush_all()
                break
            end
        end
    end
    seen = seq
end


-- Decoded value of table[field]: the value, nil when absent, false when present but invalid.
function _M.get(t, field)
    if not caches then
        _M.refresh()
    end
    local c = caches[t]
    local hit = c:get(field)
    if hit ~= nil then
        return hit
    end
    local none = absent[t]
    if none:get(field) then
        return nil
    end
    local raw = dict:get(t .. "|" .. field)
    if raw == nil then
        none:set(field, true)
        return nil
    end
    local val = json.decode(raw)
    local prep = PREPARE[t]
    if val ~= nil and prep then
        val = prep(val)
    end
    if val == nil then
        val = INVALID
    end
    c:set(field, val)
    return val
end


function _M.has(t, field)
    return _M.get(t, field) ~= nil
end


function _M.route(prefix)
    return _M.get("routes", prefix)
end


-- Once synced, a proxy stays synced (the flag is never cleared): remembered per worker.
local synced = false
function _M.synced()
    if not synced then
        synced = changes:get("meta|synced") == true
    end
    return synced
end


function _M.status()
    return {
        synced = changes:get("meta|synced") == true,
        version = changes:get("meta|version"),
        connected = changes:get("meta|connected") == true,
        last_sync = changes:get("meta|sync_time"),
        redis_addr = changes:get("meta|redis_addr"),
    }
end


-- The Redis (master) the sync last connected to, "host:port", or nil.
function _M.redis_addr()
    return changes:get("meta|redis_addr")
end


-- Writers: only sync.lua (one process) calls these.

-- Numbers a change for the workers' refresh(); the value is in the dict before its number.
local function note(key)
    local n = (changes:get("seq") or 0) + 1
    changes:set("c|" .. n, key)
    changes:delete("c|" .. (n - RING))
    changes:set("seq", n)
end


local function put(key, t, value, now)
    local ttl = 0
    if t == "revoked" then
        local exp = tonumber(value)
        if exp then
            if exp <= now then
                dict:delete(key)
                return true
            end
            ttl = exp - now + 1
        end
    end
    local ok, err = dict:safe_set(key, value, ttl)
    if not ok then
        return nil, "failed to store " .. key .. ": " .. err
    end
    return true
end


function _M.put(t, field, value, now)
    local key = t .. "|" .. field
    local ok, err = put(key, t, value, now)
    note(key)
    return ok, err
end


function _M.delete(t, field)
    local key = t .. "|" .. field
    dict:delete(key)
    note(key)
end


-- tables: { routes = { field, value, field, value, ... }, ... } (HGETALL replies)
function _M.replace(tables, version, now)
    local kept = {}
    local ok, err = true, nil
    for t, flat in pairs(tables) do
        for i = 1, #flat, 2 do
            local key = t .. "|" .. flat[i]
            ok, err = put(key, t, flat[i + 1], now)
            if not ok then
                break
            end
            kept[key] = true
        end
        if not ok then
            break
        end
    end
    if ok then
        local all = dict:get_keys(0)
        for i = 1, #all do
            local key = all[i]
            if not kept[key] then
                local bar = find(key, "|", 1, true)
                if bar and IS_TABLE[sub(key, 1, bar - 1)] then
                    dict:delete(key)
                end
            end
        end
    end
    note(ALL)           -- even a failed replace may have changed entries
    if not ok then
        return nil, err
    end
    changes:set("meta|version", version)
    changes:set("meta|sync_time", now)
    changes:set("meta|synced", true)
    return true
end


-- Versions from + 1 .. version were just applied from the stream: also noted as "v|<n>" = epoch
-- ms, the last RING of them, for GET /_edgehub/proxy/health?applied=N (propagation timing).
function _M.set_version(version, now, from)
    if from then        -- before the version: other workers answer health?applied=N meanwhile
        ngx.update_time()
        local ms = floor(ngx.now() * 1000)
        for n = from + 1, version do
            changes:set("v|" .. n, ms)
            changes:delete("v|" .. (n - RING))
        end
    end
    changes:set("meta|version", version)
    changes:set("meta|sync_time", now)
end


-- Epoch ms when this proxy applied change version n from the stream, or nil (not yet, too long
-- ago, or taken in by a full sync).
function _M.applied_ms(n)
    return changes:get("v|" .. n)
end


function _M.touch(now)
    changes:set("meta|sync_time", now)
end


-- addr: the Redis (master) now connected, "host:port"; kept while disconnected
function _M.set_connected(up, addr)
    changes:set("meta|connected", up)
    if addr then
        changes:set("meta|redis_addr", addr)
    end
end


return _M
