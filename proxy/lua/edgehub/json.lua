-- JSON: cjson.safe when present (OpenResty), else dkjson (Debian's lua-dkjson).
local pcall = pcall
local require = require


local _M = {}


local ok, cjson = pcall(require, "cjson.safe")
if ok then
    _M.decode = cjson.decode
    _M.encode = cjson.encode
    _M.impl = "cjson"
else
    local dkjson = require "dkjson"
    local dk_decode = dkjson.decode
    _M.decode = function(s)
        local ok2, v = pcall(dk_decode, s)
        if ok2 then
            return v
        end
        return nil
    end
    _M.encode = dkjson.encode
    _M.impl = "dkjson"
end


return _M
