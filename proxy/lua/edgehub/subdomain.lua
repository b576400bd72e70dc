-- Per-user subdomains (JupyterHub's subdomain_host). Pure: the SHA-256 function is passed in.
--
-- With subdomainHost = "https://hub.example.org", the hub is served at hub.example.org and the
-- server of user NAME at https://<label(NAME)>.hub.example.org/user/NAME/, a separate origin, so a
-- script in one user's server page cannot read the hub's pages or another user's server as the
-- visitor. label(NAME) is NAME when it is a DNS label already (lower-case letters, digits, '-'
-- inside, not only digits, at most 63, no "--"), else "u-<up to 8 of its letters and digits>--<7 hex
-- digits of SHA-256(NAME)>", as JupyterHub's default subdomain hook does (without its IDNA step).
-- Mirrors control-plane/src/http/subdomain.ts.
local type = type
local lower = string.lower
local find = string.find
local sub = string.sub
local gsub = string.gsub
local match = string.match


local _M = {}


local MAX_NEXT = 4096


-- { scheme, host ("name[:port]", lower case, without the scheme's default port), origin } for a
-- subdomainHost URL, or nil, err.
function _M.parse_url(url)
    if type(url) ~= "string" then
        return nil, "expected a URL"
    end
    local scheme, host, rest = match(url, "^(%a+)://([^/?#@]+)(.*)$")
    if not scheme then
        return nil, "expected scheme://host[:port]"
    end
    scheme = lower(scheme)
    if scheme ~= "http" and scheme ~= "https" then
        return nil, "expected an http or https URL"
    end
    if rest ~= "" and rest ~= "/" then
        return nil, "expected no path, query or fragment"
    end
    host = _M.normalize_host(scheme, host)
    if not match(host, "^[a-z0-9][a-z0-9.-]*[a-z0-9](:?%d*)$") then
        return nil, "expected a DNS name as host"
    end
    return { scheme = scheme, host = host, origin = scheme .. "://" .. host }
end


-- A Host header in lower case, without the scheme's default port.
function _M.normalize_host(scheme, host)
    host = lower(host)
    local n = #host
    if scheme == "http" and sub(host, n - 2) == ":80" then
        return sub(host, 1, n - 3)
    elseif scheme == "https" and sub(host, n - 3) == ":443" then
        return sub(host, 1, n - 4)
    end
    return host
end


local function dns_safe(name)
    return #name >= 1 and #name <= 63 and not find(name, "^%d+$")
        and (find(name, "^[a-z0-9]$") or find(name, "^[a-z0-9][a-z0-9-]*[a-z0-9]$")) ~= nil
end


-- The DNS label of user name's host. sha256_hex(s) -> 64 lower-case hex digits.
function _M.label(name, sha256_hex)
    if not find(name, "--", 1, true) and dns_safe(name) then
        return name
    end
    local stub = sub(gsub(lower(name), "[^a-z0-9]", ""), 1, 8)
    if stub == "" then
        stub = "x"
    end
    return "u-" .. stub .. "--" .. sub(sha256_hex(name), 1, 7)
end


-- What a request's Host (normalized) is: nil for the hub's host or any host outside ours (served as
-- before), the label of a user's host ("alice" for alice.hub.example.org), or false for a name
-- under ours that is no single label (a.b.hub.example.org).
function _M.host_label(host, hub_host)
    if not host or host == hub_host then
        return nil
    end
    local n, m = #host, #hub_host
    if n <= m + 1 or sub(host, n - m) ~= "." .. hub_host then
        return nil
    end
    local label = sub(host, 1, n - m - 1)
    if find(label, ".", 1, true) then
        return false
    end
    return label
end


-- The origin of user name's host.
function _M.user_origin(conf, name, sha256_hex)
    return conf.scheme .. "://" .. _M.label(name, sha256_hex) .. "." .. conf.host
end


-- Whether a user's server may set this cookie (one Set-Cookie header value) on its host: not with a
-- Domain attribute (it would reach the hub's host and every other user's), and not one named like
-- the hub's own (edgehub-...: a second host cookie would log the visitor out of the host for good).
function _M.cookie_allowed(line)
    if type(line) ~= "string" then
        return false
    end
    local l = lower(line)
    if find(l, "^%s*edgehub%-") or find(l, ";%s*domain%s*=") then
        return false
    end
    return true
end


-- next as a path on the same host, or nil: "/..." but not "//..." or "/\..." (another host to a
-- browser), no control characters or backslashes, bounded.
function _M.safe_next(next)
    if type(next) ~= "string" or #next > MAX_NEXT or sub(next, 1, 1) ~= "/" then
        return nil
    end
    local second = sub(next, 2, 2)
    if second == "/" or find(next, "\\", 1, true) or find(next, "%c") then
        return nil
    end
    return next
end


return _M
