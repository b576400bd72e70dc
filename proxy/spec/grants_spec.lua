local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "../lua/?.lua;" .. package.path

local grants = require "edgehub.grants"


describe("edgehub.grants", function()
    it("covers everything with all", function()
        assert.is_true(grants.covers("all", "alice", "", nil))
    end)

    it("covers a user's every server through a user entry", function()
        local g = { user = { "alice" } }
        assert.is_true(grants.covers(g, "alice", "", nil))
        assert.is_true(grants.covers(g, "alice", "gpu", nil))
        assert.is_false(grants.covers(g, "bob", "", nil))
    end)

    it("covers only the named server through a server entry", function()
        local g = { server = { "alice/gpu" } }
        assert.is_true(grants.covers(g, "alice", "gpu", nil))
        assert.is_false(grants.covers(g, "alice", "", nil))
    end)

    it("covers servers of a group's members", function()
        local g = { group = { "staff" } }
        assert.is_true(grants.covers(g, "bob", "", { "students", "staff" }))
        assert.is_false(grants.covers(g, "bob", "", { "students" }))
        assert.is_false(grants.covers(g, "bob", "", nil))
    end)

    it("refuses anything that is not a grant", function()
        assert.is_false(grants.covers(nil, "alice", "", nil))
        assert.is_false(grants.covers(false, "alice", "", nil))
        assert.is_false(grants.covers("some", "alice", "", nil))
        assert.is_false(grants.covers({}, "alice", "", nil))
    end)
end)
