-- Proxy settings, set once from init_by_lua (rendered by proxy/src/render.ts) and read by workers.
local keys = require "edgehub.keys"

local type = type
local pairs = pairs
local error = error


local _M = {}


local conf


local DEFAULTS = {
    sync_block_ms = 5000,      -- XREAD BLOCK
    sync_count = 1000,         -- XREAD COUNT
    backoff_min = 0.1,         -- seconds between reconnect attempts, doubled up to backoff_max
    backoff_max = 2,
    connect_timeout = 1000,    -- ms
    send_timeout = 2000,
    read_timeout = 5000,       -- ms, for everything but XREAD BLOCK (block + 2 s)
    cache_items = 20000,       -- per-worker decoded-JSON and cookie caches
}


function _M.init(c)
    if type(c) ~= "table" or type(c.redis) ~= "table" then
        error("edgehub.config.init: expected { redis = { host, port }, prefix }", 2)
    end
    if type(c.redis.host) ~= "string" or type(c.redis.port) ~= "number" then
        error("edgehub.config.init: redis.host and redis.port are required", 2)
    end
    if type(c.prefix) ~= "string" then
        error("edgehub.config.init: prefix is required", 2)
    end
    for k, v in pairs(DEFAULTS) do
        if c[k] == nil then
            c[k] = v
        end
    end
    if c.redis.host == "localhost" then
        c.redis.host = "127.0.0.1"
    end
    c.keys = keys.new(c.prefix)
    conf = c
end


function _M.get()
    if not conf then
        error("edgehub.config: init() was not called (init_by_lua in nginx.conf)", 2)
    end
    return conf
end


return _M
