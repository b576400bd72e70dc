-- Error responses: a small HTML page for browsers, {"status":N,"message":"..."} for API calls.
local ngx = ngx
local json = require "edgehub.json"

local gsub = string.gsub
local find = string.find
local format = string.format


local _M = {}


local ESCAPES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

local function esc(s)
    return (gsub(s, "[&<>\"']", ESCAPES))
end
_M.escape_html = esc


-- An API call (JSON answer) rather than a browser page: Authorization present, a WebSocket
-- upgrade, Accept naming application/json, or /api/ in the path.
function _M.wants_json(uri)
    local var = ngx.var
    if var.http_upgrade then
        return true
    end
    if var.http_authorization then
        return true
    end
    local accept = var.http_accept
    if accept and find(accept, "application/json", 1, true) then
        return true
    end
    return find(uri or var.uri, "/api/", 1, true) ~= nil
end


-- kind -> status, title, text for JSON (plain), and the HTML body (with %s for escaped values)
local PAGES = {
    login_required = { 401, "Login required", "authentication required" },
    forbidden = { 403, "Forbidden", "forbidden: this server belongs to another user" },
    cross_origin = { 403, "Request from another site refused",
        "cross-origin request refused: a request that changes something or opens a WebSocket must come "
        .. "from a page of this hub, or carry an API token" },
    upstream_down = { 502, "Server not responding", "the server is not responding" },
    bad_route = { 502, "Server unavailable", "the route to this server is invalid" },
    hub_down = { 503, "Hub unavailable", "the hub is temporarily unavailable" },
    too_large = { 413, "Request too large", "request body too large" },
    not_found = { 404, "Not found", "not found" },
    bad_handoff = { 400, "Sign-in link invalid", "the sign-in link is invalid or has expired" },
    unsynced = { 503, "Starting", "the proxy has not loaded its routing table yet; try again shortly" },
}


-- Light and dark (the system's preference) with WCAG AA contrast; readable 375 px wide.
local HTML = [[<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>%d %s - edgehub</title>
<style>:root{color-scheme:light dark}body{font:16px/1.5 system-ui,sans-serif;color:#1f2328;background:#fff;
max-width:36em;margin:12vh auto;padding:0 1em;overflow-wrap:anywhere}h1{font-size:1.4em;margin:0 0 .5em}
code{background:#eff2f5;padding:0 .25em}a{color:#0550ae}.status{color:#59636e;font-size:.9em}
a:focus-visible{outline:3px solid #0969da;outline-offset:2px}
@media (prefers-color-scheme:dark){body{color:#e6edf3;background:#0d1117}code{background:#262c36}
a{color:#79c0ff}.status{color:#9198a1}a:focus-visible{outline-color:#58a6ff}}</style></head>
<body><main><p class="status">%d</p><h1>%s</h1>%s</main></body></html>
]]


-- Whole-page overrides by status from the template folder (ui.templatePath), read once by init in
-- nginx's master before the workers fork; never read while serving a request.
local OVERRIDE_FILES = { [403] = "proxy-403.html", [502] = "proxy-502.html", [503] = "proxy-503.html" }
local MAX_OVERRIDE_BYTES = 65536
local overrides = {}

function _M.init(dir)
    overrides = {}
    if not dir then
        return
    end
    for status, name in pairs(OVERRIDE_FILES) do
        local f = io.open(dir .. "/" .. name, "rb")
        if f then
            local html = f:read(MAX_OVERRIDE_BYTES + 1) or ""
            f:close()
            if #html > MAX_OVERRIDE_BYTES then
                error("ui.templatePath: " .. dir .. "/" .. name .. " is larger than 65536 bytes")
            end
            overrides[status] = html
        end
    end
end


-- The override page read for status, or nil.
function _M.override_for(status)
    return overrides[status]
end


-- An override page with {{status}}, {{title}} and {{message}} filled in, escaped.
local function from_override(html, status, title, message)
    local values = { status = tostring(status), title = esc(title), message = esc(message) }
    return (gsub(html, "{{(%a+)}}", function(name)
        return values[name]
    end))
end
_M.from_override = from_override


-- Explanatory HTML paragraphs; values are escaped here.
local function paragraphs(kind, vars)
    local user = vars and vars.user
    local prefix = vars and vars.prefix
    if kind == "forbidden" then
        return format("<p>You are logged in as <b>%s</b>, and this server belongs to someone else.</p>"
            .. '<p><a href="/hub/home">Your home page</a> · <a href="/hub/logout">Log out</a></p>',
            esc(user or "another user"))
    elseif kind == "cross_origin" then
        return "<p>This request came from a page of another site (or another port of this host), and "
            .. "it would have changed something on a server with your login. It was not sent.</p>"
            .. "<p>If you meant to do this, go to the server's own page and do it there. Programs "
            .. 'should use an API token (<a href="/hub/token">Token page</a>).</p>'
    elseif kind == "upstream_down" then
        return format("<p>The server at <code>%s</code> is not responding. It may be starting, "
            .. "stopping or may have crashed.</p>"
            .. '<p>Try again in a moment, or restart it from <a href="/hub/home">your home page</a>.</p>',
            esc(prefix or "this address"))
    elseif kind == "hub_down" then
        if user then
            local home = "/user/" .. ngx.escape_uri(user) .. "/"
            return format("<p>The hub is temporarily unavailable; your running server keeps working "
                .. '<a href="%s">at <code>%s</code></a>.</p>', esc(home), esc(home))
        end
        return "<p>The hub is temporarily unavailable; your running server keeps working at "
            .. "<code>/user/NAME/</code>.</p><p>Try again in a moment.</p>"
    elseif kind == "not_found" then
        return "<p>Nothing is served at this address on this host.</p>"
    elseif kind == "bad_handoff" then
        return "<p>The link that signs you in to this server is invalid or has expired (it is valid for "
            .. "a minute). Open the server again from the hub's home page.</p>"
    elseif kind == "unsynced" then
        return "<p>The proxy is starting and has not loaded its routing table yet.</p>"
            .. "<p>Try again in a moment.</p>"
    elseif kind == "too_large" then
        return "<p>The request is larger than the hub accepts (1 MiB).</p>"
    elseif kind == "bad_route" then
        return '<p>The route to this server is invalid. Restart it from <a href="/hub/home">your home '
            .. "page</a>, or ask an administrator.</p>"
    end
    return '<p><a href="/hub/login">Log in</a></p>'
end


-- Sends the page for kind and ends the request. vars: { user, prefix, json = bool }.
function _M.send(kind, vars)
    local p = PAGES[kind]
    local status = p[1]
    local as_json = vars and vars.json
    if as_json == nil then
        as_json = _M.wants_json()
    end
    ngx.status = status
    ngx.header["Cache-Control"] = "no-store"
    if status == 503 then
        ngx.header["Retry-After"] = "1"
    end
    if as_json then
        ngx.header["Content-Type"] = "application/json"
        ngx.print(json.encode({ status = status, message = p[3] }))
    else
        ngx.header["Content-Type"] = "text/html; charset=utf-8"
        local override = overrides[status]
        if override then
            ngx.print(from_override(override, status, p[2], p[3]))
        else
            ngx.print(format(HTML, status, p[2], status, p[2], paragraphs(kind, vars)))
        end
    end
    return ngx.exit(ngx.HTTP_OK)
end


return _M
