-- GET /_edgehub/proxy/health: 200 once the local copy was synced (even if Redis is away now),
-- 503 before the first sync. The Redis address is reported to local callers only.
-- ?applied=N adds applied_ms: the epoch ms at which change N of the stream was applied here.
local ngx = ngx
local store = require "edgehub.store"
local json = require "edgehub.json"

local tonumber = tonumber


local _M = {}


function _M.run()
    local s = store.status()
    local body = {
        status = s.synced and "ok" or "starting",
        synced = s.synced,
        version = s.version,
        redis = s.connected and "connected" or "disconnected",
    }
    -- the master last connected to (Sentinel: it moves); an internal address, shown on loopback only
    local remote = ngx.var.remote_addr
    if remote == "127.0.0.1" or remote == "::1" then
        body.redis_addr = s.redis_addr
    end
    -- ?applied=N: when this proxy applied change N of the stream (propagation timing)
    local n = tonumber(ngx.var.arg_applied)
    if n then
        body.applied_ms = store.applied_ms(n)
    end
    if s.last_sync then
        body.last_sync_age = ngx.time() - s.last_sync
    end
    ngx.status = s.synced and 200 or 503
    ngx.header["Content-Type"] = "application/json"
    ngx.header["Cache-Control"] = "no-store"
    ngx.print(json.encode(body))
end


return _M
