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
local subdomain = require "edgehub.subdomain"
local handoff = require "edgehub.handoff"
local crypto = require "edgehub.crypto"
local config = require "edgehub.config"
local activity = require "edgehub.activity"
local log = require "edgehub.log"
local metrics = require "edgehub.metrics"

local type = type
local find = string.find
local lower = string.lower
local escape_uri = ngx.escape_uri
local sha256_hex = crypto.sha256_hex


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
local function refused_cross_origin(var, user, host)
    local upgrade = var.http_upgrade
    local method = var.request_method
    if not origin.applies(method, upgrade) then
        return false
    end
    local own = origin.own(var.edgehub_forwarded_proto, var.http_host)
    -- on a user's host (subdomain.lua) that host alone is the origin: not even the hub's pages
    local why = origin.refusal(method, upgrade, var.http_origin, var.http_sec_fetch_site, var.http_referer, own,
        not host and public() or nil)
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


-- Per-user hosts (config subdomain: { scheme, host, origin }), false when off; read once per worker.
local subdomain_conf
local function subdomains()
    if subdomain_conf == nil then
        subdomain_conf = config.get().subdomain or false
    end
    return subdomain_conf
end


-- With per-user hosts: the request's host (normalized) and what it is (subdomain.host_label: nil
-- for the hub's host or another one, a user's label, false for a name under ours that is no user's).
local function host_of(var, sd)
    local host = subdomain.normalize_host(sd.scheme, var.http_host or "")
    return host, subdomain.host_label(host, sd.host)
end


-- With per-user hosts, where a request to /user/ or /services/ goes. Returns:
--   "done" when it was answered (a redirect to the user's own host, or 404 on a user's host for a
--   path that is not that user's), else the user's host name when on one (nil on the hub's host).
local function placed(var, uri, sd)
    local host, label = host_of(var, sd)
    local name = find(uri, "/user/", 1, true) == 1 and route.parse_user_path(uri)
    if label == nil then
        if name then
            -- the hub's host serves no user's server: same path and query on the user's own host
            ngx.redirect(subdomain.user_origin(sd, name, sha256_hex) .. var.request_uri, 302)
            return "done"
        end
        return nil
    end
    if label and not name and find(uri, "/services/", 1, true) == 1
        and (var.request_method == "GET" or var.request_method == "HEAD") then
        -- services are on the hub's host: a link to one from a user's pages goes there
        ngx.redirect(sd.origin .. var.request_uri, 302)
        return "done"
    end
    if not label or not name or subdomain.label(name, sha256_hex) ~= label then
        pages.send("not_found")
        return "done"
    end
    return host
end


function _M.run()
    if not store.synced() and not wait_synced() then
        return pages.send("unsynced")
    end
    store.refresh()
    local var = ngx.var
    local uri = var.uri
    local sd = subdomains()
    local host, hub = nil, ""      -- on a user's host: its name, and the hub's origin for links
    if sd then
        host = placed(var, uri, sd)
        if host == "done" then
            return
        end
        hub = host and sd.origin or ""
    end
    local cookie = var.http_cookie
    local user, via, tok = identity.resolve(ngx.time(), var.http_authorization, cookie, host)
    if not user then
        metrics.auth_failure("login_required")
        if pages.wants_json(uri) then
            return pages.send("login_required", { json = true })
        end
        if host then
            -- the hub, on its own host, says who the visitor is (handoff.lua)
            return ngx.redirect(hub .. "/hub/handoff?next=" .. escape_uri(var.request_uri), 302)
        end
        return ngx.redirect("/hub/login?next=" .. escape_uri(var.request_uri), 302)
    end
    var.edgehub_user = user
    if via == "cookie" and refused_cross_origin(var, user, host) then
        metrics.auth_failure("cross_origin")
        return
    end

    local r, prefix = route.match(uri, store.route)
    if r == nil then
        return ngx.redirect(hub .. "/hub" .. var.request_uri, 302)
    elseif r == false then
        log.err("proxy.access", "invalid route entry", { prefix = prefix, request_id = var.edgehub_request_id })
        return pages.send("bad_route")
    end
    if not allowed(user, r, tok) then
        metrics.auth_failure("forbidden")
        return pages.send("forbidden", { user = user })
    end
    if r.kind == "user" and #uri == #prefix + 6 and find(uri, "logout", #prefix + 1, true) then
        -- a stock server's own "Logout" button: end the hub session, as jupyterhub-singleuser does
        return ngx.redirect(hub .. "/hub/logout", 302)
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


-- access_by_lua of the hub's location with per-user hosts: on a user's host the hub is never served
-- (its pages and API would run with that user's origin); a GET of a hub page there goes to the hub's
-- own host, anything else is 404. The hub's host (and any other) passes as before.
function _M.hub_location()
    local sd = subdomains()
    local var = ngx.var
    local _, label = host_of(var, sd)
    if label == nil then
        return
    end
    local uri = var.uri
    local method = var.request_method
    if (method == "GET" or method == "HEAD") and (uri == "/hub" or find(uri, "/hub/", 1, true) == 1) then
        return ngx.redirect(sd.origin .. var.request_uri, 302)
    end
    return pages.send("not_found")
end


-- header_filter_by_lua of /user/ with per-user hosts: a server's Set-Cookie with a Domain attribute
-- or an edgehub-... name is dropped (subdomain.cookie_allowed), and noted.
function _M.user_cookies()
    local header = ngx.header["Set-Cookie"]
    if not header then
        return
    end
    local lines = type(header) == "table" and header or { header }
    local kept, n = {}, 0
    for i = 1, #lines do
        if subdomain.cookie_allowed(lines[i]) then
            n = n + 1
            kept[n] = lines[i]
        end
    end
    if n ~= #lines then
        log.warn("proxy.access", "cookie for the parent domain or of the hub's name dropped from a server's answer", {
            user = ngx.var.edgehub_user, request_id = ngx.var.edgehub_request_id, dropped = #lines - n,
        })
        ngx.header["Set-Cookie"] = n > 0 and kept or nil
    end
end


-- GET /_edgehub/handoff?t=<hand-off>&next=<path> on a user's host (handoff.lua): the hub's signed
-- word that this browser is a user (for this host, for a minute at most) becomes the host's own
-- cookie, bound to the host and to the hub session (its expiry; logout revokes both), and the
-- browser goes on to next, a path on this host. No Redis and no hub: the synced keys and revocations.
function _M.handoff()
    local sd = subdomains()
    local var = ngx.var
    local host, label = host_of(var, sd)
    if not label then
        return pages.send("not_found")
    end
    if not store.synced() and not wait_synced() then
        return pages.send("unsynced")
    end
    store.refresh()
    local args = ngx.req.get_uri_args(8)
    local t, next = args.t, subdomain.safe_next(args.next)
    if var.request_method ~= "GET" or type(t) ~= "string" or not next then
        return pages.send("bad_handoff", { json = false })
    end
    local now = ngx.time()
    local c, why = identity.verify_handoff(t, host, now)
    if not c then
        log.warn("proxy.access", "hand-off refused", { reason = why, request_id = var.edgehub_request_id })
        return pages.send("bad_handoff", { json = false })
    end
    ngx.header["Set-Cookie"] = handoff.COOKIE .. "=" .. identity.host_cookie(c, host) .. "; Path=/; Max-Age="
        .. (c.exp - now) .. "; HttpOnly; SameSite=Lax" .. (sd.scheme == "https" and "; Secure" or "")
    ngx.header["Cache-Control"] = "no-store"
    ngx.header["Referrer-Policy"] = "no-referrer"
    return ngx.redirect(next, 302)
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
