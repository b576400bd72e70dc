-- One JSON object per error-log line: component, msg, and any fields (request_id, user, err).
-- Only called on paths that log; the hot path builds nothing.
local ngx = ngx
local json = require "edgehub.json"

local pairs = pairs
local type = type
local tostring = tostring
local ngx_log = ngx.log


local _M = {}


local LEVEL_NAMES = {
    [ngx.ERR] = "error", [ngx.WARN] = "warn", [ngx.NOTICE] = "notice",
    [ngx.INFO] = "info", [ngx.DEBUG] = "debug",
}


local function emit(level, component, msg, fields)
    local rec = { level = LEVEL_NAMES[level], component = component, msg = msg }
    if fields then
        for k, v in pairs(fields) do
            rec[k] = type(v) == "table" and v or tostring(v)
        end
    end
    ngx_log(level, json.encode(rec))
end


function _M.err(component, msg, fields) emit(ngx.ERR, component, msg, fields) end
function _M.warn(component, msg, fields) emit(ngx.WARN, component, msg, fields) end
function _M.notice(component, msg, fields) emit(ngx.NOTICE, component, msg, fields) end
function _M.info(component, msg, fields) emit(ngx.INFO, component, msg, fields) end


return _M
