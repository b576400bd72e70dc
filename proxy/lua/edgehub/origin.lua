-- Same-origin rule for cookie-authenticated requests to users' servers and services. Pure.
--
-- The proxy presents the server's own token upstream, so Jupyter (and any app behind /user/ or
-- /services/) skips its XSRF and Origin checks; this is the check that stands in for them. A
-- request that changes something (any method but GET, HEAD, OPTIONS) or opens a WebSocket must
-- come from a page of the hub's own origin:
--   1. Origin present: it must be the request's own origin (scheme://host[:port] as the client
--      used it) or the origin of publicUrl. "null" (sandboxed frames, some redirects) is foreign.
--   2. No Origin, Sec-Fetch-Site present: "same-origin" or "none" (typed by the user) pass.
--   3. Neither: a Referer, when sent, must be of the same origin (Jupyter's own fallback).
--   4. None of the three: passes. Every browser in use sends Origin on such requests and on
--      every WebSocket handshake; a client that sends none of them is not a browser, and a cookie
--      cannot be made to ride on it by another site (see docs/security.md).
-- Token-authenticated requests never come here: a token is not sent by the browser on its own.
-- String compares only: this runs on every cookie-authenticated request to a server.
local type = type
local lower = string.lower
local sub = string.sub
local match = string.match


local _M = {}


local SAFE_METHODS = { GET = true, HEAD = true, OPTIONS = true }
local SAME_SITE_VALUES = { ["same-origin"] = true, ["none"] = true }


-- "scheme://host[:port]" in lower case, without the scheme's default port.
local function normalize(origin)
    origin = lower(origin)
    local n = #origin
    if sub(origin, 1, 7) == "http://" and sub(origin, n - 2) == ":80" then
        return sub(origin, 1, n - 3)
    elseif sub(origin, 1, 8) == "https://" and sub(origin, n - 3) == ":443" then
        return sub(origin, 1, n - 4)
    end
    return origin
end
_M.normalize = normalize


-- The origin of an absolute URL ("https://hub.example.org/x" -> "https://hub.example.org"), or nil.
function _M.of_url(url)
    if type(url) ~= "string" then
        return nil
    end
    local o = match(url, "^(%a[%w+.-]*://[^/?#]+)")
    return o and normalize(o) or nil
end


-- The request's own origin from its scheme and Host header; nil without a Host.
function _M.own(scheme, host)
    if not host or host == "" then
        return nil
    end
    return normalize(scheme .. "://" .. host)
end


-- Whether the request must pass the check: a non-safe method or a WebSocket upgrade.
function _M.applies(method, upgrade)
    return upgrade ~= nil or not SAFE_METHODS[method]
end


-- true when a request with these headers comes from the expected origin; else false and the reason.
-- own: the request's own origin (_M.own); public: publicUrl's origin or nil.
function _M.same_origin(origin, fetch_site, referer, own, public)
    if origin then
        local o = normalize(origin)
        if o == own or o == public then
            return true
        end
        return false, "foreign Origin"
    end
    if fetch_site then
        if SAME_SITE_VALUES[lower(fetch_site)] then
            return true
        end
        return false, "Sec-Fetch-Site " .. lower(fetch_site)
    end
    if referer then
        local r = _M.of_url(referer)
        if r and (r == own or r == public) then
            return true
        end
        return false, "foreign Referer"
    end
    return true
end


-- Convenience for the access phase: nil when the request may pass, else the reason.
function _M.refusal(method, upgrade, origin, fetch_site, referer, own, public)
    if not _M.applies(method, upgrade) then
        return nil
    end
    local ok, why = _M.same_origin(origin, fetch_site, referer, own, public)
    if ok then
        return nil
    end
    return why
end


return _M
