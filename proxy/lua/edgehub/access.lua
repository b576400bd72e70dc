-- Phase glue: access_by_lua for /user/ and /services/, and the error-page handlers.
-- The one place that turns a decision into a status; it never talks to Redis or the hub.
local ngx = ngx
local store = require "edgehub.store"
local identity = require "edgehub.identity"
local query = require "edgehub.query"
local route = require "edgehub.route"
local grants = require "edgehub.grants"
local pages = require "edgehub.pages"
local origin = require "edgehub.origin"
local config = require "edgehub.config"
local activity = require "edgehub.activity"
local log = require "edgehub.log"

local type = type
local find = string.find
local lower = string.lower
local escape_uri = ngx.escape_uri


local _M = {}


-- grants.covers for route r; the owner's groups are looked up only when the grant names groups
local function covers(grant, r)
    local groups
    if type(grant) == "table" and grant.group then
        local a = store.get("access", r.user)
        groups = type(a) == "table" and a.groups or nil
    end
    return grants.covers(grant, r.user, r.server, groups)
end


-- The caller may use route r: a token limited to some servers must cover it, and the user must own
-- it, be an admin with admin_access, or hold a grant (configured roles) that covers it. A service's
-- token carries its whole grant.
local function allowed(user, r, tok)
    if r.kind == "service" then
        return true
    end
    if tok and tok.access ~= nil and not covers(tok.access, r) then
        return false
    end
    if tok and tok.service then
        return tok.access ~= nil -- a service: its roles' grant alone, checked above
    end
    if r.user == user then
        return true
    end
    if store.get("settings", "admin_access") == true then
        local u = store.get("users", user)
        if type(u) == "table" and u.admin == true then
            return true
        end
    end
    local a = store.get("access", user)
    return type(a) == "table" and covers(a.grants, r)
end


-- A proxy that has just started may get requests before its first sync (a load balancer that has
-- not noticed the restart yet): hold them briefly rather than refuse them. Cold path only.
local SYNC_WAIT = 3       -- seconds
local function wait_synced()
    local deadline = ngx.now() + SYNC_WAIT
    repeat
        ngx.sleep(0.01)
        if store.synced() then
            return true
        end
    until ngx.now() >= deadline
    return false
end


-- publicUrl's origin (false when not set), read once per worker.
local public_origin
local function public()
    if public_origin == nil then
        public_origin = origin.of_url(config.get().public_url) or false
    end
    return public_origin or nil
end


-- A cookie-authenticated request that changes something or opens a WebSocket must come from the
-- hub's own origin (origin.lua): the server behind us trusts the token we present and checks
-- nothing itself. Returns true when the request was refused.
local function refused_cross_origin(var, user)
    local upgrade = var.http_upgrade
    local method = var.request_method
    if not origin.applies(method, upgrade) then
        return false
    end
    local own = origin.own(var.edgehub_forwarded_proto, var.http_host)
    local why = origin.refusal(method, upgrade, var.http_origin, var.http_sec_fetch_site, var.http_referer, own, public())
    if not why then
        return false
    end
    log.warn("proxy.access", "cross-origin request refused", {
        reason = why, user = user, method = method, request_id = var.edgehub_request_id,
    })
    pages.send("cross_origin")
    return true
end


-- The server never sees ?token=: not the one that logged this request in, and not one that did not
-- (someone else's token on a shared server's URL would land in its owner's logs). Every spelling
-- nginx reads as $arg_token goes, and %-escaped ones; the other parameters stay as sent, in order.
local function strip_token_arg(var)
    local args = var.args
    if args and (find(lower(args), "token", 1, true) or find(args, "%", 1, true)) then
        local kept = query.without(args, "token")
        if kept ~= args then
            ngx.req.set_uri_args(kept or "")
        end
    end
end


function _M.run()
    if not store.synced() and not wait_synced() then
        return pages.send("unsynced")
    end
    store.refresh()
    local var = ngx.var
    local uri = var.uri
    local cookie = var.http_cookie
    local user, via, tok = identity.resolve(ngx.time(), var.http_authorization, cookie)
    if not user then
        if pages.wants_json(uri) then
            return pages.send("login_required", { json = true })
        end
        return ngx.redirect("/hub/login?next=" .. escape_uri(var.request_uri), 302)
    end
    var.edgehub_user = user
    if via == "cookie" and refused_cross_origin(var, user) then
        return
    end

    local r, prefix = route.match(uri, store.route)
    if r == nil then
        return ngx.redirect("/hub" .. var.request_uri, 302)
    elseif r == false then
        log.err("proxy.access", "invalid route entry", { prefix = prefix, request_id = var.edgehub_request_id })
        return pages.send("bad_route")
    end
    if not allowed(user, r, tok) then
        return pages.send("forbidden", { user = user })
    end
    if r.kind == "user" and #uri == #prefix + 6 and find(uri, "logout", #prefix + 1, true) then
        -- a stock server's own "Logout" button: end the hub session, as jupyterhub-singleuser does
        return ngx.redirect("/hub/logout", 302)
    end

    local ctx = ngx.ctx
    ctx.edgehub_route = r
    if r.activity and var.http_upgrade then
        -- an open WebSocket counts as activity until it closes (activity.log / log_failed)
        activity.opened(r.activity)
        ctx.edgehub_upgrade = true
        var.edgehub_upgrade = r.activity
    end
    -- What the server gets (nginx.conf: proxy_set_header from these variables; the request's own
    -- headers stay as the client sent them, for error pages): the route's token as Authorization,
    -- and Cookie without the hub's cookies.
    if r.authorization then
        var.edgehub_route_auth = r.authorization
    end
    if cookie then
        local kept = identity.cookies_for_upstream(cookie)
        if kept ~= cookie then
            var.edgehub_cookie_filtered = "1"
            if kept then
                var.edgehub_cookie_kept = kept
            end
        end
    end
    strip_token_arg(var)
end


-- error_page for /user/ and /services/ when the server refuses or times out (run() refreshed
-- the store's caches earlier in this request).
function _M.upstream_down()
    local uri = ngx.var.uri
    local _, prefix = route.match(uri, store.route)
    if not prefix then
        local name = route.parse_user_path(uri)
        prefix = name and ("/user/" .. name .. "/") or uri
    end
    return pages.send("upstream_down", { prefix = prefix })
end


-- error_page for the hub upstream when no hub replica answers.
function _M.hub_down()
    local user
    local cookie = ngx.var.http_cookie
    if cookie and store.synced() then
        store.refresh()
        user = identity.from_cookie(cookie, ngx.time())
    end
    return pages.send("hub_down", { user = user })
end


return _M
