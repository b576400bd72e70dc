-- The sign-in of a user's host (subdomain.lua): the hub's short-lived hand-off, and the host-only
-- cookie the proxy sets from it. Pure: the HMAC function and the clock are passed in; the hand-off
-- mirrors control-plane/src/pages/handoff.ts.
--
-- Hand-off (hub -> proxy, in the URL of /_edgehub/handoff?t=...):
--   h1.<kid>.<user b64url>.<sid>.<session expiry>.<host b64url>.<expiry>.<sig>
--   sig = base64url(HMAC-SHA256(key kid, "edgehub-handoff\0" .. everything before ".<sig>"))
-- Host cookie (edgehub-host-session, no Domain: this host only):
--   c1.<kid>.<user b64url>.<sid>.<session expiry>.<sig>
--   sig = base64url(HMAC-SHA256(key kid, "edgehub-host-cookie\0" .. host .. "\0" .. everything before ".<sig>"))
-- The host is in the MAC, not in the value: alice's host's cookie presented on bob's host does not
-- verify. The purposes keep the three signed things (session cookie, hand-off, host cookie) apart.
local base64url = require "edgehub.base64url"
local session = require "edgehub.session"
local keys = require "edgehub.keys"

local type = type
local tonumber = tonumber
local find = string.find
local sub = string.sub
local match = string.match


local _M = {}


_M.COOKIE = keys.HOST_COOKIE
_M.MAX_TTL = 60          -- seconds: a hand-off valid for longer is refused, whoever signed it
local MAX_LEN = 4096
local SIG_LEN = 43
local HANDOFF_PURPOSE = "edgehub-handoff\0"
local COOKIE_PURPOSE = "edgehub-host-cookie\0"
local equal = session.equal_const_time


local function field_ok(kid, user64, sid, sexp, sig)
    return #kid >= 1 and #kid <= 32 and not find(kid, "[^%w_%-]")
        and #sid == 22 and not find(sid, "[^%w_%-]")
        and #sexp >= 1 and #sexp <= 12 and not find(sexp, "%D")
        and #user64 >= 1 and not find(user64, "[^%w_%-]")
        and #sig == SIG_LEN and not find(sig, "[^%w_%-]")
end


local function decode_user(user64, b64)
    local user = b64.decode(user64)
    if not user or user == "" or b64.encode(user) ~= user64 or not session.valid_utf8(user) then
        return nil
    end
    return user
end


-- opts: secret_for(kid), hmac(key, msg), now, host (this request's, normalized), b64 (optional).
-- Returns { kid, user, sid, exp } or nil, err.
function _M.verify_handoff(t, opts)
    if type(t) ~= "string" or #t > MAX_LEN then
        return nil, "malformed hand-off"
    end
    local b64 = opts.b64 or base64url
    local ver, kid, user64, sid, sexp, host64, texp, sig =
        match(t, "^([^.]*)%.([^.]*)%.([^.]*)%.([^.]*)%.([^.]*)%.([^.]*)%.([^.]*)%.([^.]*)$")
    if ver ~= "h1" or not field_ok(kid, user64, sid, sexp, sig)
        or #texp < 1 or #texp > 12 or find(texp, "%D") or #host64 < 1 or find(host64, "[^%w_%-]")
    then
        return nil, "malformed hand-off"
    end
    local user = decode_user(user64, b64)
    if not user then
        return nil, "malformed hand-off"
    end
    local secret = opts.secret_for(kid)
    if not secret then
        return nil, "unknown key"
    end
    local payload = sub(t, 1, #t - SIG_LEN - 1)
    if not equal(b64.encode(opts.hmac(secret, HANDOFF_PURPOSE .. payload)), sig) then
        return nil, "bad signature"
    end
    local now = opts.now
    texp, sexp = tonumber(texp), tonumber(sexp)
    if texp <= now then
        return nil, "expired hand-off"
    end
    if texp > now + _M.MAX_TTL then
        return nil, "hand-off valid for too long"
    end
    if b64.decode(host64) ~= opts.host then
        return nil, "hand-off for another host"
    end
    if sexp <= now then
        return nil, "expired session"
    end
    return { kid = kid, user = user, sid = sid, exp = sexp }
end


-- The host cookie's value for claims { kid, user, sid, exp } on host, signed with secret.
function _M.cookie_value(claims, host, secret, hmac, b64)
    b64 = b64 or base64url
    local payload = "c1." .. claims.kid .. "." .. b64.encode(claims.user) .. "." .. claims.sid .. "." .. claims.exp
    return payload .. "." .. b64.encode(hmac(secret, COOKIE_PURPOSE .. host .. "\0" .. payload))
end


-- opts as verify_handoff. Returns { kid, user, sid, exp } or nil, err; revocation is the caller's job.
function _M.verify_cookie(value, opts)
    if type(value) ~= "string" or #value > MAX_LEN then
        return nil, "malformed cookie"
    end
    local b64 = opts.b64 or base64url
    local ver, kid, user64, sid, sexp, sig = match(value, "^([^.]*)%.([^.]*)%.([^.]*)%.([^.]*)%.([^.]*)%.([^.]*)$")
    if ver ~= "c1" or not field_ok(kid, user64, sid, sexp, sig) then
        return nil, "malformed cookie"
    end
    local user = decode_user(user64, b64)
    if not user then
        return nil, "malformed cookie"
    end
    local secret = opts.secret_for(kid)
    if not secret then
        return nil, "unknown key"
    end
    local payload = sub(value, 1, #value - SIG_LEN - 1)
    if not equal(b64.encode(opts.hmac(secret, COOKIE_PURPOSE .. opts.host .. "\0" .. payload)), sig) then
        return nil, "bad signature"
    end
    sexp = tonumber(sexp)
    if sexp <= opts.now then
        return nil, "expired cookie"
    end
    return { kid = kid, user = user, sid = sid, exp = sexp }
end


return _M
