-- Who is asking: an API token (Authorization: token X / Bearer X) or the session cookie,
-- checked against the local copy only. Verified cookies are cached per worker; expiry, key
-- presence and revocation are still checked on every request.
local ngx = ngx
local store = require "edgehub.store"
local session = require "edgehub.session"
local crypto = require "edgehub.crypto"
local keys = require "edgehub.keys"
local config = require "edgehub.config"
local handoff = require "edgehub.handoff"
local lrucache = require "resty.lrucache"

local type = type
local lower = string.lower
local match = string.match
local sha256_hex = crypto.sha256_hex


local _M = {}


local COOKIE = keys.SESSION_COOKIE
-- the hub's own cookies, never passed on to user servers
local STRIP_COOKIES = { [COOKIE] = true, [keys.XSRF_COOKIE] = true }
local STRIP_MARKER = "edgehub-"
local MAX_CACHED_HEADER = 4096

-- Per worker: verified cookie values; parsed Cookie headers; Authorization header -> token digest.
-- A browser sends the same headers request after request, so the pattern matching (which LuaJIT
-- does not compile) runs once per distinct header.
local cookie_cache, header_cache, digest_cache
local NO_VALUES = {}


local function secret_for(kid)
    local key = store.get("keys", kid)
    return key and key.raw or nil
end

local verify_opts = { secret_for = secret_for, hmac = crypto.hmac_sha256, b64 = crypto.b64url, now = 0 }


local function caches()
    if not cookie_cache then
        if config.get().subdomain then
            -- the cookie of users' hosts (handoff.lua) is the hub's too: never passed on
            STRIP_COOKIES[handoff.COOKIE] = true
        end
        local n = config.get().cache_items
        cookie_cache = lrucache.new(n)
        header_cache = lrucache.new(n)
        digest_cache = lrucache.new(n)
    end
end


-- { values = session cookie values (NO_VALUES when none), kept = the header without the hub's
-- cookies (false when nothing is left) } for a Cookie header
local function parsed(header)
    caches()
    local p = header_cache:get(header)
    if p then
        return p
    end
    p = {
        values = session.cookie_values(header, COOKIE) or NO_VALUES,
        kept = session.strip_cookies(header, STRIP_COOKIES, STRIP_MARKER) or false,
    }
    if #header <= MAX_CACHED_HEADER then
        header_cache:set(header, p)
    end
    return p
end


-- The Cookie header to send to a user server: without the hub's session and XSRF cookies; nil
-- when nothing is left.
function _M.cookies_for_upstream(header)
    return parsed(header).kept or nil
end


-- user, sid from the Cookie header, or nil. Exactly one session cookie logs in: with two or more
-- (another path's cookie shadowing the hub's, or a tossed one) nobody is, as at the hub
-- (control-plane/src/sessions/cookie.ts, sessionCookieValue).
function _M.from_cookie(header, now)
    local values = parsed(header).values
    if #values ~= 1 then
        return nil
    end
    local v = values[1]
    local c = cookie_cache:get(v)
    if c and secret_for(c.kid) ~= c.secret then
        c = nil                          -- key removed or replaced: verify again
    end
    if not c then
        verify_opts.now = now
        c = session.verify(v, verify_opts)
        if c then
            c.secret = secret_for(c.kid)
            cookie_cache:set(v, c)
        end
    end
    if c and c.exp > now and not store.has("revoked", c.sid) then
        return c.user, c.sid
    end
    return nil
end


-- Parsed values of the host cookie (users' hosts only), per Cookie header.
local host_header_cache

-- user, sid from the Cookie header on a user's host (subdomain.lua): exactly one edgehub-host-session
-- cookie, signed for this host (handoff.lua), unexpired, its session not revoked; else nil. The hub's
-- own session cookie does not log anyone in here.
function _M.from_host_cookie(header, host, now)
    caches()
    if not host_header_cache then
        host_header_cache = lrucache.new(config.get().cache_items)
    end
    local values = host_header_cache:get(header)
    if not values then
        values = session.cookie_values(header, handoff.COOKIE) or NO_VALUES
        if #header <= MAX_CACHED_HEADER then
            host_header_cache:set(header, values)
        end
    end
    if #values ~= 1 then
        return nil
    end
    local key = host .. " " .. values[1]
    local c = cookie_cache:get(key)
    if c and secret_for(c.kid) ~= c.secret then
        c = nil
    end
    if not c then
        verify_opts.now = now
        verify_opts.host = host
        c = handoff.verify_cookie(values[1], verify_opts)
        if c then
            c.secret = secret_for(c.kid)
            cookie_cache:set(key, c)
        end
    end
    if c and c.exp > now and not store.has("revoked", c.sid) then
        return c.user, c.sid
    end
    return nil
end


-- Verifies a hand-off (handoff.lua) for host: claims or nil, err. Revocation checked here too.
function _M.verify_handoff(t, host, now)
    verify_opts.now = now
    verify_opts.host = host
    local c, err = handoff.verify_handoff(t, verify_opts)
    if not c then
        return nil, err
    end
    if store.has("revoked", c.sid) then
        return nil, "revoked session"
    end
    return c
end


-- The host cookie's value for verified hand-off claims c on host.
function _M.host_cookie(c, host)
    return handoff.cookie_value(c, host, secret_for(c.kid), crypto.hmac_sha256, crypto.b64url)
end


-- The token digest an Authorization header value names, or false (cached per header value).
local function header_digest(header)
    caches()
    local digest = digest_cache:get(header)
    if digest == nil then
        local scheme, token = match(header, "^%s*(%a+)%s+(%S+)%s*$")
        scheme = scheme and lower(scheme)
        digest = (scheme == "token" or scheme == "bearer") and sha256_hex(token) or false
        if #header <= MAX_CACHED_HEADER then
            digest_cache:set(header, digest)
        end
    end
    return digest
end


-- user from an Authorization header value, or nil
function _M.from_authorization(header, now)
    local digest = header_digest(header)
    if not digest then
        return nil
    end
    local rec = store.get("tokens", digest)
    if type(rec) ~= "table" then
        return nil
    end
    local who = rec.user
    if type(who) ~= "string" or who == "" then
        -- a service's token: named apart from users (user names may hold ":")
        if type(rec.service) ~= "string" or rec.service == "" then
            return nil
        end
        who = "service:" .. rec.service
    end
    local exp = rec.expires_at
    if type(exp) == "number" and exp ~= 0 and exp <= now then
        return nil
    end
    return who, rec
end


-- user, how ("token" | "cookie" | "query"), the token's entry (tokens only) for the current request, or nil.
-- auth, cookie: the request's Authorization and Cookie headers (nil when absent); host: on a user's
-- host (subdomain.lua), its normalized name: the cookie that logs in there is the host cookie.
function _M.resolve(now, auth, cookie, host)
    if auth then
        local user, rec = _M.from_authorization(auth, now)
        if user then
            return user, "token", rec
        end
    end
    if cookie then
        local user
        if host then
            user = _M.from_host_cookie(cookie, host, now)
        else
            user = _M.from_cookie(cookie, now)
        end
        if user then
            return user, "cookie"
        end
    end
    -- ?token= (JupyterHub's allow_token_in_url), when the hub allows it
    local arg = ngx.var.arg_token
    if arg and store.get("settings", "token_in_query") == true then
        local user, rec = _M.from_authorization("token " .. arg, now)
        if user then
            return user, "query", rec
        end
    end
    return nil
end


return _M
