-- base64url without padding (RFC 4648 section 5), in plain Lua 5.1 arithmetic.
-- Pure: used by busted specs and as a fallback; crypto.lua has the fast ngx versions.
local byte = string.byte
local char = string.char
local sub = string.sub
local floor = math.floor
local concat = table.concat


local _M = {}


local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local ENC = {}
local DEC = {}
for i = 1, 64 do
    local c = byte(ALPHABET, i)
    ENC[i - 1] = char(c)
    DEC[c] = i - 1
end


function _M.encode(s)
    local out, n = {}, 0
    local len = #s
    for i = 1, len, 3 do
        local a, b, c = byte(s, i, i + 2)
        local v = a * 65536 + (b or 0) * 256 + (c or 0)
        n = n + 1
        out[n] = ENC[floor(v / 262144) % 64] .. ENC[floor(v / 4096) % 64]
        if b then
            n = n + 1
            out[n] = ENC[floor(v / 64) % 64]
        end
        if c then
            n = n + 1
            out[n] = ENC[v % 64]
        end
    end
    return concat(out)
end


-- Returns nil for characters outside the alphabet or an impossible length.
-- Trailing bits are ignored here; callers wanting the canonical form re-encode and compare.
function _M.decode(s)
    local len = #s
    if len % 4 == 1 then
        return nil
    end
    local out, n = {}, 0
    for i = 1, len, 4 do
        local chunk = sub(s, i, i + 3)
        local v, k = 0, #chunk
        for j = 1, 4 do
            local d = 0
            if j <= k then
                d = DEC[byte(chunk, j)]
                if not d then
                    return nil
                end
            end
            v = v * 64 + d
        end
        local a = floor(v / 65536) % 256
        local b = floor(v / 256) % 256
        local c = v % 256
        n = n + 1
        if k == 4 then
            out[n] = char(a, b, c)
        elseif k == 3 then
            out[n] = char(a, b)
        else
            out[n] = char(a)
        end
    end
    return concat(out)
end


return _M
