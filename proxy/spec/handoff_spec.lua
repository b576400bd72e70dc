local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "../lua/?.lua;" .. package.path

local handoff = require "edgehub.handoff"


local function unhex(h)
    return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

local SECRET = string.rep("\7", 32)
local HOST = "alice.hub.example.org"

-- From signHandoff() in control-plane/src/pages/handoff.ts (key "k1" = 32 bytes of 7) and the HMAC
-- of its payload; and the host cookie for the same claims, with its HMAC computed by Node.
local T = "h1.k1.YWxpY2U.AAAAAAAAAAAAAAAAAAAAAA.2000000000.YWxpY2UuaHViLmV4YW1wbGUub3Jn.1900000030."
    .. "BdX9XpWKhON3pyxqeO6OAmSlUFEqlyoFis77lEArIl8"
local T_MAC = unhex("05d5fd5e958a84e377a72c6a78ee8e0264a550512a972a058acefb94402b225f")
local COOKIE = "c1.k1.YWxpY2U.AAAAAAAAAAAAAAAAAAAAAA.2000000000.9P2Lsz5Qv3crAGmXxR11zKLwb3EcBMJhsYdxoIJdMAM"
local COOKIE_MAC = unhex("f4fd8bb33e50bf772b006997c51d75cca2f06f711c04c261b18771a0825d3003")
local KNOWN = {
    ["edgehub-handoff\0" .. T:sub(1, #T - 44)] = T_MAC,
    ["edgehub-host-cookie\0" .. HOST .. "\0" .. COOKIE:sub(1, #COOKIE - 44)] = COOKIE_MAC,
}

-- A table-driven HMAC: knows the vectors' messages under SECRET; zeros for anything else.
local function hmac(key, msg)
    if key == SECRET and KNOWN[msg] then
        return KNOWN[msg]
    end
    return string.rep("\0", 32)
end

local function opts(now, host)
    return {
        now = now, host = host or HOST, hmac = hmac,
        secret_for = function(kid) return kid == "k1" and SECRET or nil end,
    }
end

local NOW = 1900000000


describe("edgehub.handoff", function()
    it("verifies the hub's hand-off for its host within its lifetime", function()
        local c = assert(handoff.verify_handoff(T, opts(NOW)))
        assert.same({ kid = "k1", user = "alice", sid = "AAAAAAAAAAAAAAAAAAAAAA", exp = 2000000000 }, c)
    end)

    it("refuses it expired, on another host, valid for more than a minute, or tampered with", function()
        local _, err = handoff.verify_handoff(T, opts(1900000030))
        assert.equal("expired hand-off", err)
        _, err = handoff.verify_handoff(T, opts(NOW, "bob.hub.example.org"))
        assert.equal("hand-off for another host", err)
        _, err = handoff.verify_handoff(T, opts(NOW - 31))
        assert.equal("hand-off valid for too long", err)
        -- another user, another host or a longer life in the payload: the signature no longer matches
        local forged = T:gsub("YWxpY2U%.AAAA", "Ym9i.AAAA", 1)
        _, err = handoff.verify_handoff(forged, opts(NOW))
        assert.equal("bad signature", err)
        forged = T:gsub("%.1900000030%.", ".1900000050.", 1)
        _, err = handoff.verify_handoff(forged, opts(NOW))
        assert.equal("bad signature", err)
        _, err = handoff.verify_handoff(T:gsub("^h1%.k1", "h1.k2"), opts(NOW))
        assert.equal("unknown key", err)
        for _, bad in ipairs({ "", "h1", T .. ".x", T:gsub("^h1", "v1"), COOKIE, string.rep("a", 5000) }) do
            assert.is_nil((handoff.verify_handoff(bad, opts(NOW))), bad)
        end
        assert.is_nil((handoff.verify_handoff({ T }, opts(NOW))))
    end)

    it("refuses a hand-off whose session has ended", function()
        local _, err = handoff.verify_handoff(T, opts(NOW))
        assert.is_nil(err)
        -- same vector, a clock past the session's expiry but inside the hand-off's (cannot happen
        -- with real clocks; checks the order of the checks does not skip it)
        local o = opts(NOW)
        o.now = 2000000001
        assert.is_not_nil(select(2, handoff.verify_handoff(T, o)))
    end)

    it("makes the host cookie bound to its host, and verifies it only there", function()
        local claims = { kid = "k1", user = "alice", sid = "AAAAAAAAAAAAAAAAAAAAAA", exp = 2000000000 }
        assert.equal(COOKIE, handoff.cookie_value(claims, HOST, SECRET, hmac))
        local c = assert(handoff.verify_cookie(COOKIE, opts(NOW)))
        assert.same(claims, c)
        local _, err = handoff.verify_cookie(COOKIE, opts(NOW, "bob.hub.example.org"))
        assert.equal("bad signature", err)
        _, err = handoff.verify_cookie(COOKIE, opts(2000000000))
        assert.equal("expired cookie", err)
        -- neither a hand-off nor a hub session cookie is a host cookie
        assert.is_nil((handoff.verify_cookie(T, opts(NOW))))
        assert.is_nil((handoff.verify_cookie(COOKIE:gsub("^c1", "v1"), opts(NOW))))
        assert.is_nil((handoff.verify_cookie(COOKIE:gsub("YWxpY2U", "Ym9i"), opts(NOW))))
    end)
end)
