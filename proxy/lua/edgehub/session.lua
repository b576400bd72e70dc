-- Session cookie: v1.<kid>.<user_b64url>.<sid>.<exp>.<sig> (docs/redis-schema.md, "Session cookie").
-- Pure: the HMAC function and the clock are passed in; mirrors control-plane/src/sessions/cookie.ts.
local base64url = require "edgehub.base64url"

local type = type
local tonumber = tonumber
local byte = string.byte
local find = string.find
local sub = string.sub
local match = string.match
local gmatch = string.gmatch
local concat = table.concat


local _M = {}


local VERSION = "v1"
local SIG_LEN = 43       -- base64url of 32 bytes, no padding
local MAX_LEN = 4096


-- Strict UTF-8 (what Node's decoder accepts without replacement characters).
local function valid_utf8(s)
    local i, len = 1, #s
    while i <= len do
        local c = byte(s, i)
        local n
        local lo, hi = 0x80, 0xBF
        if c < 0x80 then
            n = 0
        elseif c >= 0xC2 and c <= 0xDF then
            n = 1
        elseif c >= 0xE0 and c <= 0xEF then
            n = 2
            if c == 0xE0 then lo = 0xA0 elseif c == 0xED then hi = 0x9F end
        elseif c >= 0xF0 and c <= 0xF4 then
            n = 3
            if c == 0xF0 then lo = 0x90 elseif c == 0xF4 then hi = 0x8F end
        else
            return false
        end
        for j = 1, n do
            local d = byte(s, i + j)
            if not d or d < lo or d > hi then
                return false
            end
            lo, hi = 0x80, 0xBF
        end
        i = i + n + 1
    end
    return true
end
_M.valid_utf8 = valid_utf8


-- Sums squared byte differences: no early exit, so the time does not depend on where they differ.
local function equal_const_time(a, b)
    if #a ~= #b then
        return false
    end
    local diff = 0
    for i = 1, #a do
        local x = byte(a, i) - byte(b, i)
        diff = diff + x * x
    end
    return diff == 0
end
_M.equal_const_time = equal_const_time


-- Reads a cookie value without checking the signature: claims or nil, err.
function _M.parse(value, b64)
    if type(value) ~= "string" or #value > MAX_LEN then
        return nil, "malformed cookie"
    end
    b64 = b64 or base64url
    local ver, kid, user64, sid, exp, sig =
        match(value, "^([^.]*)%.([^.]*)%.([^.]*)%.([^.]*)%.([^.]*)%.([^.]*)$")
    if ver ~= VERSION then
        return nil, "malformed cookie"
    end
    if #kid < 1 or #kid > 32 or find(kid, "[^%w_%-]")
        or #sid ~= 22 or find(sid, "[^%w_%-]")
        or #exp < 1 or #exp > 12 or find(exp, "%D")
        or #user64 < 1 or find(user64, "[^%w_%-]")
        or #sig ~= SIG_LEN or find(sig, "[^%w_%-]")
    then
        return nil, "malformed cookie"
    end
    local user = b64.decode(user64)
    if not user or user == "" or b64.encode(user) ~= user64 or not valid_utf8(user) then
        return nil, "malformed cookie user"
    end
    return {
        kid = kid,
        user = user,
        sid = sid,
        exp = tonumber(exp),
        payload = sub(value, 1, #value - SIG_LEN - 1),
        sig = sig,
    }
end


-- opts: secret_for(kid) -> raw secret bytes or nil; hmac(key, msg) -> raw digest;
--       now (epoch seconds); b64 (optional { encode, decode }).
-- Returns { kid, user, sid, exp } or nil, err. Revocation is the caller's job.
function _M.verify(value, opts)
    local b64 = opts.b64 or base64url
    local c, err = _M.parse(value, b64)
    if not c then
        return nil, err
    end
    local secret = opts.secret_for(c.kid)
    if not secret then
        return nil, "unknown cookie key"
    end
    local expected = b64.encode(opts.hmac(secret, c.payload))
    if not equal_const_time(expected, c.sig) then
        return nil, "bad cookie signature"
    end
    if c.exp <= opts.now then
        return nil, "expired cookie"
    end
    return { kid = c.kid, user = c.user, sid = c.sid, exp = c.exp }
end


-- Values of every cookie called name in a Cookie header, in order (usually one); nil when none.
function _M.cookie_values(header, name)
    if not header or not find(header, name, 1, true) then
        return nil
    end
    local out
    for pair in gmatch(header, "[^;]+") do
        local k, v = match(pair, "^%s*([^=%s]+)%s*=%s*(.-)%s*$")
        if k == name then
            out = out or {}
            out[#out + 1] = v
        end
    end
    return out
end


-- The Cookie header without the named cookies; nil when nothing is left.
-- names: set { ["edgehub-session"] = true }; marker: a plain substring every name shares.
function _M.strip_cookies(header, names, marker)
    if not header or (marker and not find(header, marker, 1, true)) then
        return header
    end
    local kept, n = {}, 0
    for pair in gmatch(header, "[^;]+") do
        local k = match(pair, "^%s*([^=%s]+)")
        if k and not names[k] then
            n = n + 1
            kept[n] = match(pair, "^%s*(.-)%s*$")
        end
    end
    if n == 0 then
        return nil
    end
    return concat(kept, "; ")
end


return _M
