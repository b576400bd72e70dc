-- Background sync of the local copy from Redis (docs/redis-schema.md, "Change stream").
-- Runs in worker 0 only, in one long-lived timer: full sync, then tail the stream with XREAD
-- BLOCK, checking that entry ids are contiguous; any gap or version mismatch -> full sync.
-- On errors: reconnect with capped backoff and keep serving the last copy. Every connection goes
-- through redis_master (Sentinel: the current master), so a failover ends in a full resync.
local ngx = ngx
local redis_master = require "edgehub.redis_master"
local store = require "edgehub.store"
local config = require "edgehub.config"
local keys = require "edgehub.keys"
local log = require "edgehub.log"

local type = type
local pcall = pcall
local tonumber = tonumber
local tostring = tostring
local format = string.format
local min = math.min
local collectgarbage = collectgarbage
local null = ngx.null
local exiting = ngx.worker.exiting


local _M = {}


local TABLES = keys.TABLES
local F = keys.STREAM_FIELDS
local COMPONENT = "proxy.sync"


local function snapshot(red, k)
    local cmds = { { "MULTI" }, { "GET", k.version } }
    for i = 1, #TABLES do
        cmds[#cmds + 1] = { "HGETALL", k.tables[TABLES[i]] }
    end
    cmds[#cmds + 1] = { "EXEC" }
    local replies, err = red:pipeline(cmds)
    if not replies then
        return nil, err
    end
    local exec = replies[#replies]
    if type(exec) ~= "table" or exec.err then
        local first = replies[1]
        return nil, "transaction failed: " .. tostring(exec and exec.err or first and first.err)
    end
    local version = exec[1] == null and 0 or tonumber(exec[1])
    if not version then
        return nil, "bad version: " .. tostring(exec[1])
    end
    local tables = {}
    for i = 1, #TABLES do
        local flat = exec[i + 1]
        if type(flat) ~= "table" or flat.err then
            return nil, "failed to read " .. k.tables[TABLES[i]] .. ": " .. tostring(flat and flat.err)
        end
        tables[TABLES[i]] = flat
    end
    return version, tables
end


local function apply(fields, now)
    local entry = {}
    for i = 1, #fields, 2 do
        entry[fields[i]] = fields[i + 1]
    end
    local t, field, op = entry[F.table], entry[F.key], entry[F.op]
    if not keys.IS_TABLE[t] or type(field) ~= "string" then
        return true         -- not ours (a newer hub's table): the version still advances
    end
    if op == F.set then
        return store.put(t, field, entry[F.value] or "", now)
    elseif op == F.del then
        store.delete(t, field)
    end
    return true
end


-- Sentinel only, at most every sync_block_ms: the sentinels still name the master we follow.
local function master_moved(cfg, addr, check)
    local now = ngx.now()
    if not cfg.redis_opts.sentinels or now < check.next then
        return false
    end
    check.next = now + cfg.sync_block_ms / 1000
    return redis_master.moved(cfg.redis_opts, addr)
end


-- Returns a resync reason (string), or nil, err[, "moved"] on errors (reconnect), or false when
-- the worker is exiting.
local function tail(red, k, version, cfg, addr)
    red:set_timeouts(cfg.connect_timeout, cfg.send_timeout, cfg.sync_block_ms + 2000)
    local check = { next = ngx.now() + cfg.sync_block_ms / 1000 }
    local recheck = false
    while not exiting() do
        local res, err
        if recheck then
            res, err = red:command("XREAD", "COUNT", cfg.sync_count, "STREAMS", k.changes,
                                   format("%d-0", version))
        else
            res, err = red:command("XREAD", "COUNT", cfg.sync_count, "BLOCK", cfg.sync_block_ms,
                                   "STREAMS", k.changes, format("%d-0", version))
        end
        if res == nil then
            return nil, "failed to read changes: " .. tostring(err)
        end
        local now = ngx.time()
        if res == null then
            local v, verr = red:command("GET", k.version)
            if v == nil then
                return nil, "failed to read version: " .. tostring(verr)
            end
            local remote = v == null and 0 or tonumber(v)
            if remote ~= version then
                -- a change may have landed between the XREAD timing out and the GET: look once
                -- more without waiting; a second miss means the stream lost entries
                if recheck or not remote or remote < version then
                    return format("redis version %s differs from local %d", tostring(v), version)
                end
            end
            recheck = remote ~= version
        else
            recheck = false
            local entries = res[1] and res[1][2] or {}
            local from = version
            for i = 1, #entries do
                local want = format("%d-0", version + 1)
                local id = entries[i][1]
                if id ~= want then
                    return "gap in change stream: expected " .. want .. ", got " .. tostring(id)
                end
                local ok, aerr = apply(entries[i][2], now)
                if not ok then
                    return nil, aerr
                end
                version = version + 1
            end
            store.set_version(version, now, from)
        end
        store.touch(now)
        local moved, named = master_moved(cfg, addr, check)
        if moved then
            return nil, "the sentinels name " .. named .. " as master, not " .. addr, "moved"
        end
    end
    return false
end


-- A full sync leaves its snapshot behind as garbage (every entry of every table as strings, and
-- their keys: about 65 MB of Lua heap at 100,000 routes and tokens), which the collector would only
-- reclaim once this worker's heap doubled again; until then the worker carries it, and requests
-- this worker serves pay for the larger heap. Collected now instead, in small steps with requests
-- served in between (at 100,000 routes: about 20 steps, none over 25 ms, 0.2 s in all; the stream
-- is read again right after). Two cycles: one may have been under way while the snapshot was live.
local GC_STEP_KB = 256

local function collect_snapshot()
    for _ = 1, 2 do
        repeat
            local done = collectgarbage("step", GC_STEP_KB)
            ngx.sleep(0)
        until done or exiting()
    end
end


-- The snapshot's tables go out of scope with this call, before collect_snapshot().
local function full_sync(red, k)
    local version, tables = snapshot(red, k)
    if not version then
        return nil, tables
    end
    local ok, err = store.replace(tables, version, ngx.time())
    if not ok then
        return nil, err
    end
    return version
end


-- One connection's life: full sync, tail, resync as needed. Returns only on error or exit.
local function run_connection(cfg, state)
    local k = cfg.keys
    local red, addr = redis_master.connect(cfg.redis_opts)
    if not red then
        return nil, "failed to connect to redis: " .. tostring(addr)
    end
    while not exiting() do
        red:set_timeouts(cfg.connect_timeout, cfg.send_timeout, cfg.read_timeout)
        local version, serr = full_sync(red, k)
        if not version then
            red:close()
            return nil, "failed to sync: " .. tostring(serr)
        end
        collect_snapshot()
        store.set_connected(true, addr)
        if state.failures > 0 or state.addr ~= addr then
            -- once per outage or switch; after a failover this names the new master
            log.notice(COMPONENT, state.failures > 0 and "synced after redis errors" or "synced", {
                failures = state.failures > 0 and state.failures or nil, version = version, redis = addr,
                previous = state.addr ~= addr and state.addr or nil,
            })
        end
        state.addr = addr
        state.failures, state.backoff = 0, cfg.backoff_min
        local reason, terr, moved = tail(red, k, version, cfg, addr)
        if reason == nil then
            red:close()
            return nil, terr, moved
        elseif reason == false then
            break
        end
        -- a stream that keeps failing the check right after a full sync (say, a foreign writer
        -- appending its own ids) must not turn into a busy loop of snapshots
        local now = ngx.now()
        if now - state.last_resync < 1 then
            ngx.sleep(state.resync_backoff)
            state.resync_backoff = min(state.resync_backoff * 2, cfg.backoff_max)
        else
            state.resync_backoff = cfg.backoff_min
            log.warn(COMPONENT, "full resync", { reason = reason })
        end
        state.last_resync = ngx.now()
    end
    red:close()
    return true
end


local function loop(premature)
    if premature then
        return
    end
    local cfg = config.get()
    local state = { failures = 0, backoff = cfg.backoff_min, last_resync = 0, resync_backoff = cfg.backoff_min }
    while not exiting() do
        local ok, done, err, moved = pcall(run_connection, cfg, state)
        if ok and done then
            break
        end
        if moved then
            -- a switch, not an error: reconnect at once to the master the sentinels name now
            log.notice(COMPONENT, "redis master moved", { reason = err })
        else
            err = ok and err or ("sync crashed: " .. tostring(done))
            store.set_connected(false)
            state.failures = state.failures + 1
            if state.failures == 1 then
                log.err(COMPONENT, err, { synced = store.synced() })
            end
            ngx.sleep(state.backoff)
            state.backoff = min(state.backoff * 2, cfg.backoff_max)
        end
    end
end


-- From init_worker_by_lua: starts the loop in worker 0 only.
function _M.start()
    local id = ngx.worker.id()
    if id ~= nil and id ~= 0 then
        return true
    end
    local ok, err = ngx.timer.at(0, loop)
    if not ok then
        log.err(COMPONENT, "failed to start sync timer", { err = err })
        return nil, err
    end
    return true
end


return _M
