-- balancer_by_lua for upstream edgehub_user: connect to the target access.lua chose.
local ngx = ngx
local balancer = require "ngx.balancer"
local log = require "edgehub.log"


local _M = {}


function _M.run()
    local r = ngx.ctx.edgehub_route
    if not r then
        log.err("proxy.balancer", "no target chosen for request", { uri = ngx.var.uri })
        return ngx.exit(500)
    end
    local ok, err = balancer.set_current_peer(r.host, r.port)
    if not ok then
        log.err("proxy.balancer", "failed to set peer", { target = r.target, err = err })
        return ngx.exit(502)
    end
end


return _M
