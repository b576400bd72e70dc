-- Last activity of users' servers and services, recorded per worker and max-merged into the
-- Redis hash P activity (docs/redis-schema.md) every activity_flush_sec seconds.
-- The request path only writes a Lua table: no locks, no Redis. Keys come from
-- route.activity_key ("ada/", "ada/gpu", "service:grader").
local ngx = ngx
local redis_master = require "edgehub.redis_master"
local config = require "edgehub.config"
local store = require "edgehub.store"
local log = require "edgehub.log"
local keys = require "edgehub.keys"
local metrics = require "edgehub.metrics"

local pairs = pairs
local next = next
local pcall = pcall
local tostring = tostring
local floor = math.floor
local format = string.format
local find = string.find


local _M = {}


local COMPONENT = "proxy.activity"
local CHUNK = 1000          -- keys per EVAL (a flush holds as many keys as routes were used)

local MERGE_SCRIPT = keys.ACTIVITY_MERGE_SCRIPT

local pending = {}          -- key -> end of the latest request (ngx.now(), seconds)
local open = {}             -- key -> upgraded connections open in this worker
local busy = false
local failing = false


local function bump(tbl, key, t)
    local cur = tbl[key]
    if not cur or t > cur then
        tbl[key] = t
    end
end


local function close_upgrade(key)
    local n = (open[key] or 1) - 1
    open[key] = n > 0 and n or nil
end


-- access phase: an upgrade request for key goes through; log() or log_failed() closes it.
function _M.opened(key)
    open[key] = (open[key] or 0) + 1
end


-- log_by_lua of /user/ and /services/.
function _M.log()
    local ctx = ngx.ctx
    local r = ctx.edgehub_route
    metrics.log_routed(r, ctx.edgehub_upgrade)
    local key = r and r.activity
    if not key then
        return
    end
    bump(pending, key, ngx.now())
    if ctx.edgehub_upgrade then
        close_upgrade(key)
    end
end


-- log_by_lua of the "server not responding" page: ngx.ctx is gone after the internal redirect,
-- the variable set by access.lua is not. The request failed, so it counts as no activity.
function _M.log_failed()
    metrics.log_failed()
    local key = ngx.var.edgehub_upgrade
    if key and key ~= "" then
        close_upgrade(key)
    end
end


-- { { "EVAL", script, 1, key, field, ms, ... }, ... }: CHUNK keys per command
local function commands(k, batch)
    local list, args = {}, nil
    for key, t in pairs(batch) do
        if not args or #args >= 4 + 2 * CHUNK then
            args = { "EVAL", MERGE_SCRIPT, 1, k.activity }
            list[#list + 1] = args
        end
        args[#args + 1] = key
        args[#args + 1] = format("%.0f", floor(t * 1000))
    end
    return list
end


-- -> true | nil, err, reused (the failed connection came from the pool)
local function send(list)
    -- with Sentinel, a pooled connection is reused only while it goes where the sync went
    local red, addr = redis_master.connect(config.get().redis_opts, true, store.redis_addr())
    if not red then
        return nil, addr
    end
    for i = 1, #list do
        local res, eerr = red:call(list[i])
        if res == nil then
            local reused = red:reused()
            red:close()
            return nil, eerr, reused
        end
    end
    red:set_keepalive(60000, 4)
    return true, addr
end


-- Sends the commands; a pooled connection gone stale or a master turned replica gets one more
-- try on a fresh connection (redis_master asks the sentinels again). -> true, addr | nil, err
local function send_retry(list)
    local ok, addr_or_err, reused = send(list)
    if ok then
        return true, addr_or_err
    end
    redis_master.forget()
    if reused or find(tostring(addr_or_err), "READONLY", 1, true) then
        return send(list)
    end
    return nil, addr_or_err
end


-- -> true[, addr] | nil, err; on errors the entries stay pending for the next flush
local function flush_once()
    local now = ngx.now()
    for key in pairs(open) do
        bump(pending, key, now)
    end
    if next(pending) == nil then
        return true
    end
    local batch = pending
    pending = {}
    local ok, addr_or_err = send_retry(commands(config.get().keys, batch))
    if not ok then
        for key, t in pairs(batch) do     -- requests since then may have added newer times
            bump(pending, key, t)
        end
    end
    return ok, addr_or_err
end


local function flush(premature)
    if busy then
        return
    end
    busy = true
    local ok, done, addr_or_err = pcall(flush_once)
    busy = false
    metrics.flushed(ok and done)
    if ok and done then
        if failing then
            failing = false
            log.notice(COMPONENT, "activity flushed after redis errors", { redis = addr_or_err })
        end
    elseif not failing then
        failing = true          -- once per outage
        local err = ok and addr_or_err or ("flush crashed: " .. tostring(done))
        log.warn(COMPONENT, "failed to flush activity", { err = err, exiting = premature or nil })
    end
end


-- From init_worker_by_lua: every worker flushes its own table.
function _M.start()
    local ok, err = ngx.timer.every(config.get().activity_flush_sec, flush)
    if not ok then
        log.err(COMPONENT, "failed to start activity timer", { err = err })
        return nil, err
    end
    return true
end


return _M
