-- Query strings as the client sent them. Pure.
local find = string.find
local sub = string.sub
local lower = string.lower
local concat = table.concat


local _M = {}


-- args without every parameter named name (compared as nginx's $arg_name does: case-insensitively),
-- the others kept in their order and encoding; nil when none is left.
-- ("a=1&token=x&b=2", "token") -> "a=1&b=2"
function _M.without(args, name)
    if not args or args == "" then
        return nil
    end
    name = lower(name)
    local kept, n = {}, 0
    local pos = 1
    local len = #args
    while pos <= len + 1 do
        local amp = find(args, "&", pos, true) or len + 1
        local part = sub(args, pos, amp - 1)
        local eq = find(part, "=", 1, true)
        local key = eq and sub(part, 1, eq - 1) or part
        if part ~= "" and lower(key) ~= name then
            n = n + 1
            kept[n] = part
        end
        pos = amp + 1
    end
    if n == 0 then
        return nil
    end
    return concat(kept, "&")
end


return _M
