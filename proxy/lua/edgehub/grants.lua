-- Whether an access grant covers a user's server. A grant is the compact form of an access:servers
-- scope the hub writes (docs/redis-schema.md, "access"): "all", or lists of users, servers
-- ("user/name") and groups. Pure: no ngx, testable with busted.
local type = type


local _M = {}


local function contains(list, v)
    if type(list) ~= "table" then
        return false
    end
    for i = 1, #list do
        if list[i] == v then
            return true
        end
    end
    return false
end


-- covers(grant, "alice", "gpu", { "staff" }) -> boolean; owner_groups: the server owner's groups
function _M.covers(grant, user, server, owner_groups)
    if grant == "all" then
        return true
    end
    if type(grant) ~= "table" then
        return false
    end
    if contains(grant.user, user) or contains(grant.server, user .. "/" .. (server or "")) then
        return true
    end
    local groups = grant.group
    if type(groups) == "table" and type(owner_groups) == "table" then
        for i = 1, #groups do
            if contains(owner_groups, groups[i]) then
                return true
            end
        end
    end
    return false
end


return _M
