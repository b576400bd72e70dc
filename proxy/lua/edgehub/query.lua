-- Query strings as the client sent them. Pure.
local find = string.find
local sub = string.sub
local lower = string.lower
local gsub = string.gsub
local char = string.char
local tonumber = tonumber
local concat = table.concat


local _M = {}


local function hex_char(h)
    return char(tonumber(h, 16))
end

-- A parameter's name as the server will read it: percent-escapes decoded (Tornado, like most
-- frameworks, decodes names: %74oken is token there), compared case-insensitively.
local function key_name(key)
    if find(key, "%", 1, true) then
        key = gsub(key, "%%(%x%x)", hex_char)
    end
    return lower(key)
end


-- args without every parameter named name (compared as nginx's $arg_name does: case-insensitively,
-- and also with percent-escapes in the name decoded), the others kept in their order and encoding;
-- nil when none is left; args itself (the same string) when there was none to drop.
-- ("a=1&token=x&b=2", "token") -> "a=1&b=2"
function _M.without(args, name)
    if not args or args == "" then
        return nil
    end
    name = lower(name)
    local kept, n = {}, 0
    local removed = false
    local pos = 1
    local len = #args
    while pos <= len + 1 do
        local amp = find(args, "&", pos, true) or len + 1
        local part = sub(args, pos, amp - 1)
        local eq = find(part, "=", 1, true)
        local key = eq and sub(part, 1, eq - 1) or part
        if part ~= "" and key_name(key) ~= name then
            n = n + 1
            kept[n] = part
        elseif part ~= "" then
            removed = true
        end
        pos = amp + 1
    end
    if not removed then
        return args
    end
    if n == 0 then
        return nil
    end
    return concat(kept, "&")
end


return _M
