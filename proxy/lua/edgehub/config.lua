-- Proxy settings, set once from init_by_lua (rendered by proxy/src/render.ts) and read by workers.
local keys = require "edgehub.keys"
local subdomain = require "edgehub.subdomain"

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
    cache_items = 20000,       -- per-worker LRU caches: decoded entries, verified cookies, parsed headers
    activity_flush_sec = 10,   -- every worker writes its activity table to Redis this often
}


local function loopback(host)
    return host == "localhost" and "127.0.0.1" or host
end


local function check_redis(r)
    -- an ACL user (AUTH username password); a password alone logs in as the default user
    if r.username ~= nil and (type(r.username) ~= "string" or type(r.password) ~= "string") then
        error("edgehub.config.init: redis.username needs redis.password (both strings)", 3)
    end
    if r.sentinel_username ~= nil
        and (type(r.sentinel_username) ~= "string" or type(r.sentinel_password) ~= "string") then
        error("edgehub.config.init: redis.sentinel_username needs redis.sentinel_password (both strings)", 3)
    end
    if r.sentinels == nil then
        if type(r.host) ~= "string" or type(r.port) ~= "number" then
            error("edgehub.config.init: redis.host and redis.port are required", 3)
        end
        return
    end
    if type(r.sentinels) ~= "table" or #r.sentinels == 0 then
        error("edgehub.config.init: redis.sentinels must list at least one { host, port }", 3)
    end
    for i = 1, #r.sentinels do
        local s = r.sentinels[i]
        if type(s) ~= "table" or type(s.host) ~= "string" or type(s.port) ~= "number" then
            error("edgehub.config.init: redis.sentinels[" .. i .. "] must be { host, port }", 3)
        end
        s.host = loopback(s.host)
    end
    if type(r.master_name) ~= "string" or r.master_name == "" then
        error("edgehub.config.init: redis.master_name is required with redis.sentinels", 3)
    end
end


-- What redis_master.connect needs, built once.
local function redis_opts(c)
    local r = c.redis
    return {
        host = r.host, port = r.port, password = r.password, username = r.username, db = r.db,
        sentinels = r.sentinels, master_name = r.master_name,
        sentinel_username = r.sentinel_username, sentinel_password = r.sentinel_password,
        connect_timeout = c.connect_timeout, send_timeout = c.send_timeout, read_timeout = c.read_timeout,
    }
end


function _M.init(c)
    if type(c) ~= "table" or type(c.redis) ~= "table" then
        error("edgehub.config.init: expected { redis = { host, port } or { sentinels, master_name }, prefix }", 2)
    end
    check_redis(c.redis)
    if type(c.prefix) ~= "string" then
        error("edgehub.config.init: prefix is required", 2)
    end
    for k, v in pairs(DEFAULTS) do
        if c[k] == nil then
            c[k] = v
        end
    end
    if type(c.activity_flush_sec) ~= "number" or c.activity_flush_sec < 1 then
        error("edgehub.config.init: activity_flush_sec must be a number >= 1", 2)
    end
    if c.subdomain_host ~= nil then
        -- per-user hosts (subdomain.lua): { scheme, host, origin }
        local sd, err = subdomain.parse_url(c.subdomain_host)
        if not sd then
            error("edgehub.config.init: subdomain_host: " .. err, 2)
        end
        c.subdomain = sd
    end
    c.redis.host = loopback(c.redis.host)
    c.keys = keys.new(c.prefix)
    c.redis_opts = redis_opts(c)
    conf = c
end


function _M.get()
    if not conf then
        error("edgehub.config: init() was not called (init_by_lua in nginx.conf)", 2)
    end
    return conf
end


return _M
