-- Who is asking: an API token (Authorization: token X / Bearer X) or the session cookie,
-- checked against the local copy only. Verified cookies are cached per worker; expiry, key
-- presence and revocation are still checked on every request.
local ngx = ngx
local store = require "edgehub.store"
local session = require "edgehub.session"
local crypto = require "edgehub.crypto"
local keys = require "edgehub.keys"
local config = require "edgehub.config"
local lrucache = require "resty.lrucache"

local type = type
local lower = string.lower
local match = string.match
local sha256_hex = crypto.sha256_hex


local _M = {}


local COOKIE = keys.SESSION_COOKIE
local cookie_cache, digest_cache


local function secret_for(kid)
    local key = store.get("keys", kid)
    return key and key.raw or nil
end

local verify_opts = { secret_for = secret_for, hmac = crypto.hmac_sha256, b64 = crypto.b64url, now = 0 }


local function caches()
    if not cookie_cache then
        local n = config.get().cache_items
        cookie_cache = lrucache.new(n)
        digest_cache = lrucache.new(n)
    end
end


-- user, sid from the Cookie header, or nil
function _M.from_cookie(header, now)
    local values = session.cookie_values(header, COOKIE)
    if not values then
        return nil
    end
    caches()
    for i = 1, #values do
        local v = values[i]
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
    end
    return nil
end


-- user from an Authorization header value, or nil
function _M.from_authorization(header, now)
    local scheme, token = match(header, "^%s*(%a+)%s+(%S+)%s*$")
    if not scheme then
        return nil
    end
    scheme = lower(scheme)
    if scheme ~= "token" and scheme ~= "bearer" then
        return nil
    end
    caches()
    local digest = digest_cache:get(token)
    if not digest then
        digest = sha256_hex(token)
        digest_cache:set(token, digest)
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


-- user, how ("token" | "cookie" | "query"), the token's entry (tokens only) for the current request, or nil
function _M.resolve(now)
    local var = ngx.var
    local auth = var.http_authorization
    if auth then
        local user, rec = _M.from_authorization(auth, now)
        if user then
            return user, "token", rec
        end
    end
    local cookie = var.http_cookie
    if cookie then
        local user = _M.from_cookie(cookie, now)
        if user then
            return user, "cookie"
        end
    end
    -- ?token= (JupyterHub's allow_token_in_url), when the hub allows it
    local arg = var.arg_token
    if arg and store.get("settings", "token_in_query") == true then
        local user, rec = _M.from_authorization("token " .. arg, now)
        if user then
            return user, "query", rec
        end
    end
    return nil
end


return _M
