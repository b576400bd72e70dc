-- Minimal RESP2 client over ngx.socket.tcp: connect (AUTH, SELECT), command, pipeline, keepalive.
-- I/O errors and Redis error replies come back as nil, err. Inside arrays and pipelines an
-- error reply is a table { err = "..." }; a null reply is ngx.null.
local ngx = ngx
local tcp = ngx.socket.tcp
local null = ngx.null

local type = type
local tostring = tostring
local tonumber = tonumber
local setmetatable = setmetatable
local sub = string.sub
local byte = string.byte
local find = string.find
local concat = table.concat


local _M = {}
local mt = { __index = _M }


local function encode(args, out, n)
    n = n + 1
    out[n] = "*" .. #args .. "\r\n"
    for i = 1, #args do
        local a = tostring(args[i])
        n = n + 1
        out[n] = "$" .. #a .. "\r\n" .. a .. "\r\n"
    end
    return n
end


-- Replies are parsed from a per-connection buffer filled with receiveany(): one socket read per
-- burst of data instead of one per line and per bulk string (an XREAD entry is some twenty RESP
-- elements; a full sync, hundreds of thousands). A read returns at most lua_socket_buffer_size
-- bytes (nginx.conf.tmpl sets 64k).
local CHUNK = 65536


local function fill(self)
    local data, err = self.sock:receiveany(CHUNK)
    if not data then
        return nil, err
    end
    local buf, pos = self.buf, self.pos
    if pos > #buf then
        self.buf = data
    else
        self.buf = sub(buf, pos) .. data
    end
    self.pos = 1
    return true
end


local function read_line(self)
    while true do
        local e = find(self.buf, "\r\n", self.pos, true)
        if e then
            local line = sub(self.buf, self.pos, e - 1)
            self.pos = e + 2
            return line
        end
        local ok, err = fill(self)
        if not ok then
            return nil, err
        end
    end
end


-- len bytes and the CRLF after them; what is not buffered yet is read at once (big values).
local function read_bulk(self, len)
    local buf, pos = self.buf, self.pos
    local have = #buf - pos + 1
    if have >= len + 2 then
        self.pos = pos + len + 2
        return sub(buf, pos, pos + len - 1)
    end
    local rest, err = self.sock:receive(len + 2 - have)
    if not rest then
        return nil, err
    end
    self.buf, self.pos = "", 1
    return sub(sub(buf, pos) .. rest, 1, len)
end


local function read_reply(self)
    local line, err = read_line(self)
    if not line then
        return nil, err
    end
    local kind, rest = byte(line, 1), sub(line, 2)
    if kind == 36 then       -- $ bulk string
        local len = tonumber(rest)
        if not len then
            return nil, "bad bulk length: " .. rest
        end
        if len < 0 then
            return null
        end
        return read_bulk(self, len)
    elseif kind == 42 then   -- * array
        local n = tonumber(rest)
        if not n then
            return nil, "bad array length: " .. rest
        end
        if n < 0 then
            return null
        end
        local arr = {}
        for i = 1, n do
            local v, rerr = read_reply(self)
            if v == nil then
                return nil, rerr
            end
            arr[i] = v
        end
        return arr
    elseif kind == 43 then   -- + simple string
        return rest
    elseif kind == 45 then   -- - error
        return { err = rest }
    elseif kind == 58 then   -- : integer
        return tonumber(rest)
    end
    return nil, "bad reply: " .. line
end


local function top(v, err)
    if v == nil then
        return nil, err
    end
    if type(v) == "table" and v.err then
        return nil, v.err
    end
    return v
end


-- opts: host, port, password, username, db, connect_timeout, send_timeout, read_timeout (ms), pool
function _M.connect(opts)
    local sock = tcp()
    sock:settimeouts(opts.connect_timeout or 1000, opts.send_timeout or 2000, opts.read_timeout or 5000)
    local ok, err = sock:connect(opts.host, opts.port, opts.pool and { pool = opts.pool } or nil)
    if not ok then
        return nil, err
    end
    local self = setmetatable({ sock = sock, buf = "", pos = 1 }, mt)
    if sock:getreusedtimes() == 0 then
        if opts.password and opts.password ~= "" then
            local res, aerr
            if opts.username and opts.username ~= "" then
                res, aerr = self:command("AUTH", opts.username, opts.password)
            else
                res, aerr = self:command("AUTH", opts.password)
            end
            if not res then
                sock:close()
                return nil, "AUTH failed: " .. aerr
            end
        end
        if opts.db and opts.db ~= 0 then
            local res, serr = self:command("SELECT", opts.db)
            if not res then
                sock:close()
                return nil, "SELECT failed: " .. serr
            end
        end
    end
    return self
end


function _M.set_timeouts(self, connect, send, read)
    self.sock:settimeouts(connect, send, read)
end


-- call({ "HGET", key, field }) -> reply or nil, err (an argument list of any length)
function _M.call(self, args)
    local out = {}
    encode(args, out, 0)
    local ok, err = self.sock:send(concat(out))
    if not ok then
        self.broken = true
        return nil, err
    end
    local v, rerr = read_reply(self)
    if v == nil then
        self.broken = true      -- a reply may be half read: never pooled
    end
    return top(v, rerr)
end


-- command("HGET", key, field) -> reply or nil, err
function _M.command(self, ...)
    return _M.call(self, { ... })
end


-- true when the connection came from the keepalive pool (it was set up and checked before)
function _M.reused(self)
    return (self.sock:getreusedtimes() or 0) > 0
end


-- pipeline({ { "MULTI" }, { "GET", k }, { "EXEC" } }) -> { reply, ... } or nil, err (I/O only);
-- error replies stay in the list as { err = "..." }.
function _M.pipeline(self, cmds)
    local out, n = {}, 0
    for i = 1, #cmds do
        n = encode(cmds[i], out, n)
    end
    local ok, err = self.sock:send(concat(out))
    if not ok then
        self.broken = true
        return nil, err
    end
    local replies = {}
    for i = 1, #cmds do
        local v, rerr = read_reply(self)
        if v == nil then
            self.broken = true
            return nil, rerr
        end
        replies[i] = v
    end
    return replies
end


-- A connection that failed a command, or holds unread reply bytes, is out of step with its
-- commands: closed, not pooled.
function _M.set_keepalive(self, idle_ms, pool_size)
    if self.broken or self.pos <= #self.buf then
        self.sock:close()
        return nil, "unread reply data"
    end
    return self.sock:setkeepalive(idle_ms, pool_size)
end


function _M.close(self)
    return self.sock:close()
end


return _M
