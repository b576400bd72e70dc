local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "../lua/?.lua;" .. package.path

local session = require "edgehub.session"


local function unhex(h)
    return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end


-- Produced by signCookie() in control-plane/src/sessions/cookie.ts, with the HMAC of each payload.
local VECTORS = {
    {
        cookie = "v1.k1.YWxpY2U.AAAAAAAAAAAAAAAAAAAAAA.2000000000."
            .. "fGgke1z4WcahBfgpXcsjx_P7ZznibMb7KDbpzc9NaRU",
        kid = "k1",
        secret = unhex(string.rep("07", 32)),
        mac = unhex("7c68247b5cf859c6a105f8295dcb23c7f3fb6739e26cc6fb2836e9cdcf4d6915"),
        user = "alice",
        sid = "AAAAAAAAAAAAAAAAAAAAAA",
        exp = 2000000000,
    },
    {
        cookie = "v1.key_2-b.w5xuw69jw7hkw6kg55So5oi3QHgub3Jn.abcdefghijklmnopqrstuv.1700000000."
            .. "327_FGM5UA_Yut-Btx9Xqh3Wgt3Y4BJTAlDWxcJjsRQ",
        kid = "key_2-b",
        secret = "0123456789abcdef0123456789abcdef",
        mac = unhex("df6eff146339500fd8badf81b71f57aa1dd682ddd8e012530250d6c5c263b114"),
        user = unhex("c39c6ec3af63c3b864c3a920e794a8e688b740782e6f7267"),
        sid = "abcdefghijklmnopqrstuv",
        exp = 1700000000,
    },
}


-- A table-driven HMAC: knows the vectors' (key, payload) pairs, returns zeros for anything else.
local function vector_hmac(key, msg)
    for _, v in ipairs(VECTORS) do
        if key == v.secret and msg == v.cookie:sub(1, #v.cookie - 44) then
            return v.mac
        end
    end
    return string.rep("\0", 32)
end


local function opts(now, secrets)
    return {
        now = now,
        hmac = vector_hmac,
        secret_for = function(kid)
            if secrets then return secrets[kid] end
            for _, v in ipairs(VECTORS) do
                if v.kid == kid then return v.secret end
            end
        end,
    }
end


describe("edgehub.session", function()
    describe("verify", function()
        it("accepts cookies signed by the control plane", function()
            for _, v in ipairs(VECTORS) do
                local c, err = session.verify(v.cookie, opts(v.exp - 1))
                assert.is_nil(err)
                assert.same({ kid = v.kid, user = v.user, sid = v.sid, exp = v.exp }, c)
            end
        end)

        it("refuses an expired cookie (exp <= now)", function()
            local v = VECTORS[1]
            local c, err = session.verify(v.cookie, opts(v.exp))
            assert.is_nil(c)
            assert.equal("expired cookie", err)
        end)

        it("refuses a cookie whose key is unknown", function()
            local c, err = session.verify(VECTORS[1].cookie, opts(0, {}))
            assert.is_nil(c)
            assert.equal("unknown cookie key", err)
        end)

        it("refuses a tampered user, sid, exp or signature", function()
            local v = VECTORS[1]
            local tampered = {
                v.cookie:gsub("YWxpY2U", "Ym9i"),                        -- user "bob"
                v.cookie:gsub("AAAAAAAAAAAAAAAAAAAAAA", "BAAAAAAAAAAAAAAAAAAAAA"),
                v.cookie:gsub("2000000000", "2000000001"),
                v.cookie:sub(1, -2) .. "Q",
                v.cookie:sub(1, -2) .. "V",                               -- same bytes, non-canonical
            }
            for _, t in ipairs(tampered) do
                local c, err = session.verify(t, opts(0))
                assert.is_nil(c)
                assert.equal("bad cookie signature", err)
            end
        end)

        it("refuses a cookie signed with another key's secret", function()
            local v = VECTORS[1]
            local c, err = session.verify(v.cookie, opts(0, { k1 = VECTORS[2].secret }))
            assert.is_nil(c)
            assert.equal("bad cookie signature", err)
        end)
    end)

    describe("parse", function()
        local good = VECTORS[1].cookie

        it("refuses malformed values", function()
            local bad = {
                "", "v1", good .. ".x", "v2" .. good:sub(3), good:gsub("%.k1%.", ".k!1."),
                good:gsub("%.k1%.", ".."), good:gsub("AAAAAAAAAAAAAAAAAAAAAA", "AAAA"),
                good:gsub("2000000000", "2e9"), good:gsub("2000000000", "1234567890123"),
                good:sub(1, -2), good:gsub("YWxpY2U", "YWxpY2U="), string.rep("a", 5000),
            }
            for _, b in ipairs(bad) do
                assert.is_nil((session.parse(b)), b)
            end
            assert.is_nil(session.parse(nil))
        end)

        it("refuses a user that is not canonical base64url", function()
            -- "YWxpY2V" decodes to "alice" too, but is not what the signer produces
            assert.is_nil((session.parse((good:gsub("YWxpY2U", "YWxpY2V")))))
        end)

        it("refuses a user that is not valid UTF-8", function()
            -- "_w" is 0xFF
            assert.is_nil((session.parse((good:gsub("YWxpY2U", "_w")))))
        end)

        it("returns the signed payload", function()
            assert.equal("v1.k1.YWxpY2U.AAAAAAAAAAAAAAAAAAAAAA.2000000000", session.parse(good).payload)
        end)
    end)

    describe("valid_utf8", function()
        it("accepts ASCII and multi-byte characters, refuses overlongs and surrogates", function()
            assert.is_true(session.valid_utf8("abc"))
            assert.is_true(session.valid_utf8("\195\156\231\148\168\240\159\152\128"))
            assert.is_false(session.valid_utf8("\192\175"))
            assert.is_false(session.valid_utf8("\237\160\128"))
            assert.is_false(session.valid_utf8("\244\144\128\128"))
            assert.is_false(session.valid_utf8("\226\130"))
        end)
    end)

    describe("cookie_values", function()
        it("finds the named cookie among others", function()
            assert.same({ "abc" }, session.cookie_values("a=1; edgehub-session=abc; b=2", "edgehub-session"))
        end)

        it("returns every value when the cookie appears twice", function()
            assert.same({ "x", "y" },
                session.cookie_values("edgehub-session=x;edgehub-session=y", "edgehub-session"))
        end)

        it("does not match a cookie whose name only ends with the name", function()
            assert.is_nil(session.cookie_values("xedgehub-session=abc", "edgehub-session"))
            assert.is_nil(session.cookie_values(nil, "edgehub-session"))
        end)
    end)

    describe("strip_cookies", function()
        local names = { ["edgehub-session"] = true, ["edgehub-xsrf"] = true }

        it("removes the named cookies and keeps the others in order", function()
            assert.equal("_xsrf=1; b=2",
                session.strip_cookies("_xsrf=1; edgehub-session=abc;b=2; edgehub-xsrf=q", names, "edgehub-"))
        end)

        it("returns nil when nothing is left", function()
            assert.is_nil(session.strip_cookies("edgehub-session=abc", names, "edgehub-"))
        end)

        it("returns the header unchanged when no name can occur", function()
            local h = "a=1;  b=2"
            assert.equal(h, session.strip_cookies(h, names, "edgehub-"))
        end)
    end)
end)
