-- WebSocket echo for the benchmark upstream: completes the handshake on the raw request socket and
-- sends every text/binary message back unmasked; answers ping with pong and close with close.
local bit = require("bit")
local band, bor, bxor = bit.band, bit.bor, bit.bxor
local byte, char, concat, sub = string.byte, string.char, table.concat, string.sub

local GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

local key = ngx.var.http_sec_websocket_key
if not key or (ngx.var.http_upgrade or ""):lower() ~= "websocket" then
    return ngx.exit(400)
end
local sock = assert(ngx.req.socket(true))
sock:settimeouts(5000, 5000, 3600000)
assert(sock:send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" ..
    "Sec-WebSocket-Accept: " .. ngx.encode_base64(ngx.sha1_bin(key .. GUID)) .. "\r\n\r\n"))

local function frame(opcode, payload)
    local n = #payload
    local head
    if n < 126 then
        head = char(bor(0x80, opcode), n)
    elseif n < 65536 then
        head = char(bor(0x80, opcode), 126, band(n / 256, 0xff), n % 256)
    else
        return nil -- the benchmark sends small messages only
    end
    return head .. payload
end

local function unmask(data, mask)
    local m1, m2, m3, m4 = byte(mask, 1, 4)
    local m = { m1, m2, m3, m4 }
    local out, chunk = {}, {}
    for i = 1, #data do
        chunk[#chunk + 1] = bxor(byte(data, i), m[(i - 1) % 4 + 1])
        if #chunk == 4096 or i == #data then
            out[#out + 1] = char(unpack(chunk))
            chunk = {}
        end
    end
    return concat(out)
end

while true do
    local head = sock:receive(2)
    if not head then return ngx.exit(ngx.OK) end
    local b1, b2 = byte(head, 1, 2)
    local opcode, len = band(b1, 0x0f), band(b2, 0x7f)
    if len == 126 then
        local x = sock:receive(2)
        if not x then return ngx.exit(ngx.OK) end
        len = byte(x, 1) * 256 + byte(x, 2)
    elseif len == 127 then
        return ngx.exit(ngx.OK)
    end
    local mask = band(b2, 0x80) ~= 0 and sock:receive(4) or nil
    local payload = len > 0 and sock:receive(len) or ""
    if not payload then return ngx.exit(ngx.OK) end
    if mask then payload = unmask(payload, mask) end
    if opcode == 0x8 then
        sock:send(frame(0x8, sub(payload, 1, 2)))
        return ngx.exit(ngx.OK)
    elseif opcode == 0x9 then
        sock:send(frame(0xA, payload))
    elseif opcode == 0x1 or opcode == 0x2 then
        local f = frame(opcode, payload)
        if not f or not sock:send(f) then return ngx.exit(ngx.OK) end
    end
end
