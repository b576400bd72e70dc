-- Longest-prefix route matching at path-segment boundaries. Pure: the lookup is passed in.
local type = type
local tonumber = tonumber
local find = string.find
local sub = string.sub
local match = string.match
local byte = string.byte


local _M = {}


local MAX_SEGMENTS = 4
_M.MAX_SEGMENTS = MAX_SEGMENTS
local SLASH = byte("/")


-- Candidate prefixes of uri ending at a segment boundary, longest first, at most MAX_SEGMENTS:
-- "/user/alice/gpu/lab/tree" -> "/user/alice/gpu/lab/", "/user/alice/gpu/", "/user/alice/", "/user/"
-- A last segment without its slash counts: "/user/alice" -> "/user/alice/", "/user/".
function _M.candidates(uri)
    local out, n = {}, 0
    if byte(uri, 1) ~= SLASH then
        return out
    end
    local pos = 1
    while n < MAX_SEGMENTS do
        local nxt = find(uri, "/", pos + 1, true)
        if not nxt then
            if pos < #uri then
                n = n + 1
                out[n] = uri .. "/"
            end
            break
        end
        if nxt == pos + 1 then  -- empty segment ("//"): stop, never match across it
            break
        end
        n = n + 1
        out[n] = sub(uri, 1, nxt)
        pos = nxt
    end
    -- reverse: longest first
    for i = 1, n / 2 do
        out[i], out[n - i + 1] = out[n - i + 1], out[i]
    end
    return out
end


-- lookup(prefix) -> value or nil. Returns value, prefix of the longest match, or nil.
function _M.match(uri, lookup)
    local c = _M.candidates(uri)
    for i = 1, #c do
        local v = lookup(c[i])
        if v ~= nil then
            return v, c[i]
        end
    end
    return nil
end


-- "/user/alice/lab" -> "alice", "/lab"; anything else -> nil, err
function _M.parse_user_path(uri)
    local name, rest = match(uri, "^/user/([^/]+)(/?.*)$")
    if not name then
        return nil, "not a user path: " .. uri
    end
    return name, rest
end


-- The field of P activity a route's requests count for: "<user>/<server>" for kind "user"
-- ("ada/" for the default server), "service:<name>" for a service with a name, else nil.
function _M.activity_key(r)
    if r.kind == "user" then
        if type(r.user) ~= "string" or r.user == "" then
            return nil
        end
        return r.user .. "/" .. (type(r.server) == "string" and r.server or "")
    elseif r.kind == "service" then
        if type(r.name) ~= "string" or r.name == "" then
            return nil
        end
        return "service:" .. r.name
    end
    return nil
end


-- "127.0.0.1:8888" -> "127.0.0.1", 8888; "[::1]:8888" -> "::1", 8888; "localhost:1" -> "127.0.0.1", 1
function _M.parse_target(target)
    if type(target) ~= "string" then
        return nil, "target is not a string"
    end
    local host, port = match(target, "^%[([%x:.]+)%]:(%d+)$")
    if not host then
        host, port = match(target, "^([%w.%-]+):(%d+)$")
    end
    port = tonumber(port)
    if not host or not port or port < 1 or port > 65535 then
        return nil, "bad target: " .. target
    end
    if host == "localhost" then
        host = "127.0.0.1"
    end
    return host, port
end


return _M
