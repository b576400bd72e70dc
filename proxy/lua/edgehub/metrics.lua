-- The proxy's Prometheus metrics: counters in lua_shared_dict "edgehub_metrics" (shared by every
-- worker, so one scrape sees the whole proxy), served on the metrics port (proxy.metricsPort).
-- The request path only increments a small fixed set of keys, built once here: no Redis, no
-- string building, three shared-dict incr per request. Off (every call returns at once) unless
-- init(true) ran from init_by_lua. docs/metrics.md lists every metric.
local ngx = ngx

local pairs = pairs
local ipairs = ipairs
local pcall = pcall
local tonumber = tonumber
local format = string.format
local concat = table.concat
local sub = string.sub
local find = string.find


local _M = {}


local KINDS = { "hub", "server", "service" }
local CLASSES = { "1xx", "2xx", "3xx", "4xx", "5xx" }
-- upper bounds (seconds) of the latency buckets; +Inf is the count
local BOUNDS = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 }
_M.BOUNDS = BOUNDS
local NBOUNDS = #BOUNDS
local AUTH_REASONS = { "login_required", "forbidden", "cross_origin" }
local DICTS = { "edgehub", "edgehub_sync", "edgehub_metrics" }
-- counting the tables' entries walks the big dict's keys (a lock held over all of them): at most this often
local TABLE_COUNT_SEC = 60

local enabled = false
local dict

-- keys, built once: REQ[kind][class], BUCKET[kind][i] (i = NBOUNDS + 1 for past the last bound)
local REQ, BUCKET, SUM, UPSTREAM, AUTH = {}, {}, {}, {}, {}
for _, kind in ipairs(KINDS) do
    REQ[kind], BUCKET[kind] = {}, {}
    for c, class in ipairs(CLASSES) do
        REQ[kind][c] = "req|" .. kind .. "|" .. class
    end
    for i = 1, NBOUNDS + 1 do
        BUCKET[kind][i] = "lat|" .. kind .. "|" .. i
    end
    SUM[kind] = "sum|" .. kind
    UPSTREAM[kind] = "upstream_error|" .. kind
end
for _, reason in ipairs(AUTH_REASONS) do
    AUTH[reason] = "auth_failure|" .. reason
end
local FLUSH = { ok = "activity_flush|ok", error = "activity_flush|error" }


-- From init_by_lua (before the workers fork): on = proxy.metricsPort is set. `shared` for specs.
function _M.init(on, shared)
    enabled = on and true or false
    dict = (shared or ngx.shared).edgehub_metrics
    if enabled and not dict then
        error("edgehub.metrics: lua_shared_dict edgehub_metrics is not configured", 2)
    end
end


function _M.enabled()
    return enabled
end


-- log phase: one request of kind ("hub" | "server" | "service") answered with status after
-- seconds; seconds nil for an upgraded connection (its length is no request latency).
function _M.request(kind, status, seconds)
    if not enabled then
        return
    end
    local c = (status - status % 100) / 100
    local keys = REQ[kind]
    dict:incr(keys[c] or keys[5], 1, 0)
    if seconds then
        local i = 1
        while i <= NBOUNDS and seconds > BOUNDS[i] do
            i = i + 1
        end
        dict:incr(BUCKET[kind][i], 1, 0)
        dict:incr(SUM[kind], seconds, 0)
    end
end


local function kind_of_uri()
    return find(ngx.var.uri, "/services/", 1, true) == 1 and "service" or "server"
end


-- log phase of /user/ and /services/ (activity.log): r the route access.lua matched, or nil when
-- the request was answered before (a redirect to the login); upgraded for a WebSocket.
function _M.log_routed(r, upgraded)
    if not enabled then
        return
    end
    local kind
    if r then
        kind = r.kind == "service" and "service" or "server"
    else
        kind = kind_of_uri()
    end
    _M.request(kind, ngx.status, not upgraded and (ngx.now() - ngx.req.start_time()) or nil)
end


-- log phase of the "server not responding" page (activity.log_failed): a request and an upstream error.
function _M.log_failed()
    if not enabled then
        return
    end
    local kind = kind_of_uri()
    _M.request(kind, ngx.status, ngx.now() - ngx.req.start_time())
    dict:incr(UPSTREAM[kind], 1, 0)
end


-- log phase of the hub's location
function _M.log_hub()
    if not enabled then
        return
    end
    _M.request("hub", ngx.status, ngx.now() - ngx.req.start_time())
end


-- access phase: a request to a server or service refused for want of a login, a grant, or its origin
function _M.auth_failure(reason)
    if enabled then
        dict:incr(AUTH[reason], 1, 0)
    end
end


-- An activity flush to Redis finished: ok true or false.
function _M.flushed(ok)
    if enabled then
        dict:incr(ok and FLUSH.ok or FLUSH.error, 1, 0)
    end
end


-- Entries of each proxy table in the big dict (keys "<table>|<field>"), counted at most every
-- TABLE_COUNT_SEC and kept in the metrics dict for every worker.
local function table_counts(shared, now)
    local at = dict:get("tables|at")
    if not at or now - at >= TABLE_COUNT_SEC then
        local counts = {}
        local big = shared.edgehub
        for _, key in ipairs(big and big:get_keys(0) or {}) do
            local bar = key:find("|", 1, true)
            if bar then
                local t = sub(key, 1, bar - 1)
                counts[t] = (counts[t] or 0) + 1
            end
        end
        for _, t in ipairs({ "routes", "keys", "tokens", "revoked", "users", "access" }) do
            dict:set("tables|" .. t, counts[t] or 0)
        end
        dict:set("tables|at", now)
    end
    local out = {}
    for _, t in ipairs({ "routes", "keys", "tokens", "revoked", "users", "access" }) do
        out[#out + 1] = { t, dict:get("tables|" .. t) or 0 }
    end
    return out
end


local function num(v)
    -- %.17g round-trips a double; integers print without a fraction
    if v == nil then
        return "0"
    end
    if v == math.floor(v) and v < 2 ^ 53 and v > -2 ^ 53 then
        return format("%d", v)
    end
    return format("%.17g", v)
end


-- The exposition text (Prometheus text format 0.0.4). status: what store.status() returns.
function _M.exposition(status, now, shared)
    shared = shared or ngx.shared
    local lines = {}
    local function add(s)
        lines[#lines + 1] = s
    end
    local function family(name, kind, help)
        add("# HELP " .. name .. " " .. help)
        add("# TYPE " .. name .. " " .. kind)
    end

    family("edgehub_proxy_requests_total", "counter",
        "requests answered, by kind (hub, server, service) and status class")
    for _, kind in ipairs(KINDS) do
        for c, class in ipairs(CLASSES) do
            local n = dict:get(REQ[kind][c])
            add(format('edgehub_proxy_requests_total{kind="%s",code="%s"} %s', kind, class, num(n)))
        end
    end

    family("edgehub_proxy_request_duration_seconds", "histogram",
        "time from the first byte of a request to the end of its answer, by kind (upgraded connections left out)")
    for _, kind in ipairs(KINDS) do
        local cumulative = 0
        for i = 1, NBOUNDS + 1 do
            cumulative = cumulative + (dict:get(BUCKET[kind][i]) or 0)
            local le = i <= NBOUNDS and format("%g", BOUNDS[i]) or "+Inf"
            add(format('edgehub_proxy_request_duration_seconds_bucket{kind="%s",le="%s"} %s',
                kind, le, num(cumulative)))
        end
        add(format('edgehub_proxy_request_duration_seconds_sum{kind="%s"} %s', kind, num(dict:get(SUM[kind]))))
        add(format('edgehub_proxy_request_duration_seconds_count{kind="%s"} %s', kind, num(cumulative)))
    end

    family("edgehub_proxy_upstream_errors_total", "counter",
        "requests whose server or service refused the connection or timed out")
    for _, kind in ipairs({ "server", "service" }) do
        add(format('edgehub_proxy_upstream_errors_total{kind="%s"} %s', kind, num(dict:get(UPSTREAM[kind]))))
    end

    family("edgehub_proxy_auth_failures_total", "counter",
        "requests to a server or service refused: no login, no grant, or a cross-origin request")
    for _, reason in ipairs(AUTH_REASONS) do
        add(format('edgehub_proxy_auth_failures_total{reason="%s"} %s', reason, num(dict:get(AUTH[reason]))))
    end

    family("edgehub_proxy_activity_flushes_total", "counter", "flushes of server activity to Redis, by result")
    for _, result in ipairs({ "ok", "error" }) do
        add(format('edgehub_proxy_activity_flushes_total{result="%s"} %s', result, num(dict:get(FLUSH[result]))))
    end

    family("edgehub_proxy_synced", "gauge", "1 once the local copy of the proxy tables was synced from Redis")
    add("edgehub_proxy_synced " .. (status.synced and "1" or "0"))
    family("edgehub_proxy_redis_connected", "gauge", "1 while the sync is connected to Redis")
    add("edgehub_proxy_redis_connected " .. (status.connected and "1" or "0"))
    family("edgehub_proxy_sync_version", "gauge",
        "version of the proxy tables applied here (compare edgehub_proxy_table_version of the hub)")
    add("edgehub_proxy_sync_version " .. num(tonumber(status.version)))
    family("edgehub_proxy_sync_age_seconds", "gauge",
        "seconds since the sync last heard from Redis (a change or an empty wait): its lag bound")
    add("edgehub_proxy_sync_age_seconds " .. (status.last_sync and num(now - status.last_sync) or "NaN"))

    family("edgehub_proxy_table_entries", "gauge",
        "entries of each proxy table held in the local copy (counted at most once a minute)")
    for _, tc in ipairs(table_counts(shared, now)) do
        add(format('edgehub_proxy_table_entries{table="%s"} %s', tc[1], num(tc[2])))
    end

    family("edgehub_proxy_shared_dict_capacity_bytes", "gauge", "size of each lua_shared_dict")
    local free = {}
    for _, name in ipairs(DICTS) do
        local d = shared[name]
        if d then
            local ok, cap = pcall(d.capacity, d)
            local okf, f = pcall(d.free_space, d)
            if ok then
                add(format('edgehub_proxy_shared_dict_capacity_bytes{dict="%s"} %s', name, num(cap)))
            end
            if okf then
                free[#free + 1] = format('edgehub_proxy_shared_dict_free_bytes{dict="%s"} %s', name, num(f))
            end
        end
    end
    family("edgehub_proxy_shared_dict_free_bytes", "gauge", "free pages of each lua_shared_dict, in bytes")
    for _, l in ipairs(free) do
        add(l)
    end
    add("")
    return concat(lines, "\n")
end


-- content_by_lua of GET /metrics on the metrics port.
function _M.serve()
    if ngx.req.get_method() ~= "GET" and ngx.req.get_method() ~= "HEAD" then
        return ngx.exit(405)
    end
    local store = require "edgehub.store"
    ngx.header["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8"
    ngx.header["Cache-Control"] = "no-store"
    ngx.print(_M.exposition(store.status(), ngx.now()))
end


_M.KINDS = KINDS
_M.keys_of = function()
    local all = {}
    for _, kind in ipairs(KINDS) do
        for _, k in pairs(REQ[kind]) do all[#all + 1] = k end
        for _, k in pairs(BUCKET[kind]) do all[#all + 1] = k end
        all[#all + 1] = SUM[kind]
        all[#all + 1] = UPSTREAM[kind]
    end
    for _, k in pairs(AUTH) do all[#all + 1] = k end
    for _, k in pairs(FLUSH) do all[#all + 1] = k end
    return all
end


return _M
