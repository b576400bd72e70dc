-- The local copy of the proxy tables in lua_shared_dict "edgehub": keys "<table>|<field>"
-- holding the raw value from Redis, plus "meta|..." keys. sync.lua writes; requests read.
-- Decoded JSON is cached per worker, keyed by dict key and checked against the raw value,
-- so a change in the dict is seen by the next request.
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


local _M = {}


local dict = ngx.shared.edgehub
if not dict then
    error("lua_shared_dict edgehub is not configured")
end
_M.dict = dict

local IS_TABLE = keys.IS_TABLE
local INVALID = false     -- cached for a value that does not decode or has the wrong shape
local cache


-- Derived fields computed once per decoded value (the value is shared: never mutate it later).
local PREPARE = {
    routes = function(v)
        if type(v) ~= "table" then return nil end
        local host, port = route.parse_target(v.target)
        if not host then return nil end
        v.host, v.port = host, port
        v.activity = route.activity_key(v)
        return v
    end,
    keys = function(v)
        if type(v) ~= "table" or type(v.secret) ~= "string" then return nil end
        v.raw = crypto.b64url.decode(v.secret)
        if not v.raw or v.raw == "" then return nil end
        return v
    end,
}


-- Decoded value of table[field]: the value, nil when absent, false when present but invalid.
function _M.get(t, field)
    local key = t .. "|" .. field
    local raw = dict:get(key)
    if raw == nil then
        return nil
    end
    if not cache then
        cache = lrucache.new(config.get().cache_items)
    end
    local hit = cache:get(key)
    if hit and hit[1] == raw then
        return hit[2]
    end
    local val = json.decode(raw)
    local prep = PREPARE[t]
    if val ~= nil and prep then
        val = prep(val)
    end
    if val == nil then
        val = INVALID
    end
    cache:set(key, { raw, val })
    return val
end


function _M.has(t, field)
    return dict:get(t .. "|" .. field) ~= nil
end


function _M.route(prefix)
    return _M.get("routes", prefix)
end


function _M.synced()
    return dict:get("meta|synced") == true
end


function _M.status()
    return {
        synced = dict:get("meta|synced") == true,
        version = dict:get("meta|version"),
        connected = dict:get("meta|connected") == true,
        last_sync = dict:get("meta|sync_time"),
        redis_addr = dict:get("meta|redis_addr"),
    }
end


-- The Redis (master) the sync last connected to, "host:port", or nil.
function _M.redis_addr()
    return dict:get("meta|redis_addr")
end


-- Writers: only sync.lua (worker 0) calls these.

function _M.put(t, field, value, now)
    local key = t .. "|" .. field
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


function _M.delete(t, field)
    dict:delete(t .. "|" .. field)
end


-- tables: { routes = { field, value, field, value, ... }, ... } (HGETALL replies)
function _M.replace(tables, version, now)
    local seen = {}
    for t, flat in pairs(tables) do
        for i = 1, #flat, 2 do
            local ok, err = _M.put(t, flat[i], flat[i + 1], now)
            if not ok then
                return nil, err
            end
            seen[t .. "|" .. flat[i]] = true
        end
    end
    local all = dict:get_keys(0)
    for i = 1, #all do
        local key = all[i]
        if not seen[key] then
            local bar = find(key, "|", 1, true)
            if bar and IS_TABLE[sub(key, 1, bar - 1)] then
                dict:delete(key)
            end
        end
    end
    dict:set("meta|version", version)
    dict:set("meta|sync_time", now)
    dict:set("meta|synced", true)
    return true
end


function _M.set_version(version, now)
    dict:set("meta|version", version)
    dict:set("meta|sync_time", now)
end


function _M.touch(now)
    dict:set("meta|sync_time", now)
end


-- addr: the Redis (master) now connected, "host:port"; kept while disconnected
function _M.set_connected(up, addr)
    dict:set("meta|connected", up)
    if addr then
        dict:set("meta|redis_addr", addr)
    end
end


return _M
