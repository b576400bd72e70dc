local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "../lua/?.lua;" .. package.path

local json = require "dkjson"
local keys = require "edgehub.keys"


local function fixture()
    local f = assert(io.open(here .. "../../test/fixtures/redis-keys.json"))
    local doc = assert(json.decode(f:read("*a")))
    f:close()
    return doc
end


describe("edgehub.keys", function()
    local doc = fixture()

    it("names the version key and change stream as the fixture does", function()
        local k = keys.new(doc.prefix)
        assert.equal(doc.prefix .. doc.proxy.version, k.version)
        assert.equal(doc.prefix .. doc.proxy.changes, k.changes)
    end)

    it("lists exactly the proxy tables of the fixture, with their key names", function()
        local k = keys.new(doc.prefix)
        local expected = {}
        for name, key in pairs(doc.proxy.tables) do
            expected[name] = doc.prefix .. key
        end
        assert.same(expected, k.tables)
        assert.equal(#keys.TABLES, #(function()
            local n = {}
            for name in pairs(doc.proxy.tables) do n[#n + 1] = name end
            return n
        end)())
    end)

    it("names the activity hash as the fixture does", function()
        assert.equal(doc.prefix .. doc.activity, keys.new(doc.prefix).activity)
    end)

    it("uses the fixture's stream field names and cookie name/version", function()
        assert.same(doc.streamEntry, keys.STREAM_FIELDS)
        assert.equal(doc.cookie.name, keys.SESSION_COOKIE)
        assert.equal(doc.cookie.version, keys.COOKIE_VERSION)
        assert.same(doc.cookies, { session = keys.SESSION_COOKIE, xsrf = keys.XSRF_COOKIE, host = keys.HOST_COOKIE })
    end)

    it("merges activity with the fixture's script, the hub's too", function()
        assert.equal(doc.activityMerge, keys.ACTIVITY_MERGE_SCRIPT)
    end)

    it("applies any prefix", function()
        local k = keys.new("hub2:")
        assert.equal("hub2:proxy:version", k.version)
        assert.equal("hub2:proxy:routes", k.tables.routes)
        assert.equal("hub2:activity", k.activity)
    end)

    it("rejects a prefix that is not a string", function()
        assert.has_error(function() keys.new(nil) end, "prefix must be a string")
    end)
end)
