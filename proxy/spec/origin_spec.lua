local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "../lua/?.lua;" .. package.path

local origin = require "edgehub.origin"


local OWN = "http://127.0.0.1:8000"
local PUBLIC = "https://hub.example.org"

-- refusal reason (nil: passes) for a request with these headers
local function check(method, h)
    h = h or {}
    return origin.refusal(method, h.upgrade, h.origin, h.site, h.referer, OWN, h.public)
end


describe("edgehub.origin", function()
    describe("normalize / own / of_url", function()
        it("lower-cases and drops the scheme's default port only", function()
            assert.equal("http://hub.example.org", origin.normalize("HTTP://Hub.Example.ORG:80"))
            assert.equal("https://hub.example.org", origin.normalize("https://hub.example.org:443"))
            assert.equal("https://hub.example.org:80", origin.normalize("https://hub.example.org:80"))
            assert.equal("http://hub.example.org:443", origin.normalize("http://hub.example.org:443"))
            assert.equal("http://127.0.0.1:8000", origin.normalize("http://127.0.0.1:8000"))
        end)

        it("builds the request's own origin from scheme and Host", function()
            assert.equal(OWN, origin.own("http", "127.0.0.1:8000"))
            assert.equal("https://hub.example.org", origin.own("https", "HUB.example.org:443"))
            assert.is_nil(origin.own("http", nil))
            assert.is_nil(origin.own("http", ""))
        end)

        it("reads the origin of an absolute URL", function()
            assert.equal("https://hub.example.org", origin.of_url("https://hub.example.org/user/a/?x=1"))
            assert.equal("http://127.0.0.1:8000", origin.of_url("http://127.0.0.1:8000"))
            assert.is_nil(origin.of_url("/user/a/"))
            assert.is_nil(origin.of_url(nil))
            assert.is_nil(origin.of_url("https:///x"))
        end)
    end)

    describe("which requests are checked", function()
        it("lets safe methods through whatever their headers say", function()
            for _, m in ipairs({ "GET", "HEAD", "OPTIONS" }) do
                assert.is_nil(check(m, { origin = "http://evil.example" }))
                assert.is_nil(check(m, { site = "cross-site" }))
            end
        end)

        it("checks every other method, and WebSocket upgrades (which are GETs)", function()
            for _, m in ipairs({ "POST", "PUT", "PATCH", "DELETE", "PROPFIND", "get" }) do
                assert.equal("foreign Origin", check(m, { origin = "http://evil.example" }))
            end
            assert.equal("foreign Origin", check("GET", { upgrade = "websocket", origin = "http://evil.example" }))
            assert.is_nil(check("GET", { upgrade = "websocket", origin = OWN }))
        end)
    end)

    describe("Origin", function()
        it("passes the request's own origin, in any case and with an explicit default port", function()
            assert.is_nil(check("POST", { origin = OWN }))
            local own = origin.own("http", "hub.example.org:80")
            assert.is_nil(origin.refusal("POST", nil, "http://HUB.example.org", nil, nil, own, nil))
        end)

        it("refuses another host, another port, another scheme, and the opaque origin null", function()
            assert.equal("foreign Origin", check("POST", { origin = "http://evil.example" }))
            assert.equal("foreign Origin", check("POST", { origin = "http://127.0.0.1:8001" }))
            assert.equal("foreign Origin", check("POST", { origin = "https://127.0.0.1:8000" }))
            assert.equal("foreign Origin", check("POST", { origin = "http://127.0.0.1:8000.evil.example" }))
            assert.equal("foreign Origin", check("POST", { origin = "null" }))
            assert.equal("foreign Origin", check("POST", { origin = "" }))
        end)

        it("passes publicUrl's origin too (a front proxy that rewrites Host)", function()
            assert.is_nil(check("POST", { origin = PUBLIC, public = PUBLIC }))
            assert.equal("foreign Origin", check("POST", { origin = PUBLIC }))
        end)

        it("wins over Sec-Fetch-Site and Referer", function()
            local forged = { origin = "http://evil.example", site = "same-origin", referer = OWN .. "/" }
            assert.equal("foreign Origin", check("POST", forged))
            assert.is_nil(check("POST", { origin = OWN, site = "cross-site", referer = "http://evil.example/" }))
        end)

        it("is refused without a Host to compare with", function()
            assert.equal("foreign Origin", origin.refusal("POST", nil, OWN, nil, nil, nil, nil))
        end)
    end)

    describe("without Origin", function()
        it("takes Sec-Fetch-Site same-origin or none, refuses same-site and cross-site", function()
            assert.is_nil(check("POST", { site = "same-origin" }))
            assert.is_nil(check("POST", { site = "none" }))
            assert.equal("Sec-Fetch-Site same-site", check("POST", { site = "same-site" }))
            assert.equal("Sec-Fetch-Site cross-site", check("DELETE", { site = "Cross-Site" }))
            assert.equal("Sec-Fetch-Site cross-site", check("GET", { upgrade = "websocket", site = "cross-site" }))
        end)

        it("falls back to the Referer's origin", function()
            assert.is_nil(check("POST", { referer = OWN .. "/user/alice/lab" }))
            assert.equal("foreign Referer", check("POST", { referer = "http://evil.example/x" }))
            assert.equal("foreign Referer", check("POST", { referer = "about:blank" }))
        end)

        it("lets a client that sends none of the three through (not a browser)", function()
            assert.is_nil(check("POST", {}))
            assert.is_nil(check("GET", { upgrade = "websocket" }))
        end)
    end)
end)
