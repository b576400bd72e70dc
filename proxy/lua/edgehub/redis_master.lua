-- A connection to the Redis master: the configured host/port, or, with Redis Sentinel, the master
-- a sentinel names. Each sentinel is asked in turn (SENTINEL get-master-addr-by-name), and the
-- address it gives counts only when ROLE there says "master" (a sentinel may still name the old
-- master during a failover). Callers retry with backoff when every sentinel fails.
-- opts (config.lua's redis_opts): host, port, password, username, db, timeouts, and for Sentinel
-- sentinels = { { host, port }, ... }, master_name, sentinel_username, sentinel_password.
local ngx = ngx
local resp = require "edgehub.resp"

local type = type
local tonumber = tonumber
local tostring = tostring
local format = string.format
local find = string.find
local concat = table.concat


local _M = {}


-- per worker: the sentinel that answered last (asked first next time) and the master it named
local first = 1
local last_host, last_port


local function addr(host, port)
    if find(host, ":", 1, true) then
        return format("[%s]:%d", host, port)
    end
    return format("%s:%d", host, port)
end
_M.addr = addr


local function open(opts, host, port, pooled)
    return resp.connect({
        host = host, port = port,
        password = opts.password, username = opts.username, db = opts.db,
        connect_timeout = opts.connect_timeout, send_timeout = opts.send_timeout,
        read_timeout = opts.read_timeout,
        pool = pooled and format("edgehub:%s:%d:%d", host, port, opts.db or 0) or nil,
    })
end


-- SENTINEL get-master-addr-by-name -> host, port or nil, err
local function ask(opts, s)
    local sc, err = resp.connect({
        host = s.host, port = s.port, username = opts.sentinel_username, password = opts.sentinel_password,
        connect_timeout = opts.connect_timeout, send_timeout = opts.send_timeout,
        read_timeout = opts.read_timeout,
    })
    if not sc then
        return nil, err
    end
    local r, qerr = sc:command("SENTINEL", "get-master-addr-by-name", opts.master_name)
    sc:close()
    if r == nil then
        return nil, qerr
    end
    if r == ngx.null then
        return nil, "does not know master " .. opts.master_name
    end
    local port = type(r) == "table" and tonumber(r[2])
    if type(r[1]) ~= "string" or not port then
        return nil, "bad reply to SENTINEL get-master-addr-by-name"
    end
    local host = r[1] == "localhost" and "127.0.0.1" or r[1]
    return host, port
end


-- the first field of ROLE: "master", "slave" or "sentinel"
local function role(red)
    local r, err = red:command("ROLE")
    if r == nil then
        return nil, err
    end
    if type(r) ~= "table" or type(r[1]) ~= "string" then
        return nil, "bad reply to ROLE"
    end
    return r[1]
end


local function via_sentinels(opts, pooled)
    local sentinels = opts.sentinels
    local n = #sentinels
    local errs = {}
    for i = 0, n - 1 do
        local idx = (first - 1 + i) % n + 1
        local s = sentinels[idx]
        local host, port = ask(opts, s)
        local err
        if host then
            local red, cerr = open(opts, host, port, pooled)
            if red then
                local r, rerr
                if red:reused() then
                    r = "master"        -- checked when it was opened; a demoted master drops its clients
                else
                    r, rerr = role(red)
                end
                if r == "master" then
                    first, last_host, last_port = idx, host, port
                    return red, addr(host, port)
                end
                red:close()
                err = format("%s is not the master (%s)", addr(host, port), tostring(r or rerr))
            else
                err = format("%s: %s", addr(host, port), tostring(cerr))
            end
        else
            err = tostring(port)
        end
        errs[#errs + 1] = format("sentinel %s: %s", addr(s.host, s.port), err)
    end
    return nil, "no redis master found: " .. concat(errs, "; ")
end


-- connect(opts[, pooled[, want]]) -> client, "host:port" | nil, err
-- pooled: take the connection from (and later return it to) the keepalive pool; with Sentinel a
-- pooled connection to the last master found is used without asking the sentinels again, unless
-- want (the address the sync found, say) names another one.
function _M.connect(opts, pooled, want)
    if not opts.sentinels then
        local red, err = open(opts, opts.host, opts.port, pooled)
        if not red then
            return nil, err
        end
        return red, addr(opts.host, opts.port)
    end
    if pooled and last_host and (not want or want == addr(last_host, last_port)) then
        local red = open(opts, last_host, last_port, true)
        if red and red:reused() then
            return red, addr(last_host, last_port)
        end
        if red then
            red:close()
        end
    end
    return via_sentinels(opts, pooled)
end


-- Sentinel only: true when the first sentinel that answers names a master other than current
-- ("host:port"). A switch leaves the old master writable for a while (until the sentinels
-- reconfigure it), so a connection to it must not wait for an error.
function _M.moved(opts, current)
    local sentinels = opts.sentinels
    if not sentinels then
        return false
    end
    local n = #sentinels
    for i = 0, n - 1 do
        local idx = (first - 1 + i) % n + 1
        local host, port = ask(opts, sentinels[idx])
        if host then
            first = idx
            local named = addr(host, port)
            return named ~= current, named
        end
    end
    return false
end


-- After a READONLY reply or an I/O error: the next pooled connect asks the sentinels again.
function _M.forget()
    last_host, last_port = nil, nil
end


return _M
