local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "../lua/?.lua;" .. package.path

local route = require "edgehub.route"


local function lookup_in(tbl)
    local calls = {}
    return function(prefix)
        calls[#calls + 1] = prefix
        return tbl[prefix]
    end, calls
end


describe("edgehub.route", function()
    describe("candidates", function()
        it("lists segment-boundary prefixes longest first, at most 4 segments", function()
            assert.same({ "/user/alice/gpu/lab/", "/user/alice/gpu/", "/user/alice/", "/user/" },
                route.candidates("/user/alice/gpu/lab/tree/x.ipynb"))
        end)

        it("treats a last segment without its slash as a boundary", function()
            assert.same({ "/user/alice/", "/user/" }, route.candidates("/user/alice"))
        end)

        it("returns nothing for / and for a relative path", function()
            assert.same({}, route.candidates("/"))
            assert.same({}, route.candidates("user/alice/"))
        end)

        it("stops at an empty segment", function()
            assert.same({ "/user/" }, route.candidates("/user//alice/"))
        end)
    end)

    describe("match", function()
        local routes = {
            ["/user/alice/"] = "default",
            ["/user/alice/gpu/"] = "named",
            ["/services/grader/"] = "service",
        }

        it("prefers the named server route over the default one", function()
            local lookup = lookup_in(routes)
            local v, prefix = route.match("/user/alice/gpu/lab", lookup)
            assert.equal("named", v)
            assert.equal("/user/alice/gpu/", prefix)
        end)

        it("falls back to the default server route", function()
            local v, prefix = route.match("/user/alice/lab/tree", (lookup_in(routes)))
            assert.equal("default", v)
            assert.equal("/user/alice/", prefix)
        end)

        it("matches only at segment boundaries", function()
            assert.is_nil(route.match("/user/alicex/lab", (lookup_in(routes))))
            assert.equal("default", (route.match("/user/alice/gpux/", (lookup_in(routes)))))
        end)

        it("matches the bare prefix without its trailing slash", function()
            assert.equal("default", (route.match("/user/alice", (lookup_in(routes)))))
        end)

        it("returns nil when nothing matches", function()
            assert.is_nil(route.match("/user/bob/lab", (lookup_in(routes))))
        end)

        it("looks up at most 4 prefixes, longest first", function()
            local lookup, calls = lookup_in({})
            route.match("/a/b/c/d/e/f/g", lookup)
            assert.same({ "/a/b/c/d/", "/a/b/c/", "/a/b/", "/a/" }, calls)
        end)
    end)

    describe("parse_user_path", function()
        it("splits /user/NAME/rest", function()
            assert.same({ "alice", "/lab" }, { route.parse_user_path("/user/alice/lab") })
            assert.same({ "alice", "" }, { route.parse_user_path("/user/alice") })
        end)

        it("returns nil, err for other paths", function()
            local name, err = route.parse_user_path("/hub/home")
            assert.is_nil(name)
            assert.equal("not a user path: /hub/home", err)
        end)
    end)

    describe("parse_target", function()
        it("parses IPv4, bracketed IPv6 and localhost", function()
            assert.same({ "127.0.0.1", 8888 }, { route.parse_target("127.0.0.1:8888") })
            assert.same({ "::1", 9 }, { route.parse_target("[::1]:9") })
            assert.same({ "127.0.0.1", 80 }, { route.parse_target("localhost:80") })
        end)

        it("rejects bad ports and shapes", function()
            assert.is_nil(route.parse_target("127.0.0.1:0"))
            assert.is_nil(route.parse_target("127.0.0.1:70000"))
            assert.is_nil(route.parse_target("127.0.0.1"))
            assert.is_nil(route.parse_target(42))
        end)
    end)
    describe("activity_key", function()
        it("is <user>/<server> for user routes, with an empty server for the default one", function()
            assert.equal("ada/", route.activity_key({ kind = "user", user = "ada", server = "" }))
            assert.equal("ada/", route.activity_key({ kind = "user", user = "ada" }))
            assert.equal("ada/gpu", route.activity_key({ kind = "user", user = "ada", server = "gpu" }))
        end)

        it("is service:<name> for named services", function()
            assert.equal("service:grader", route.activity_key({ kind = "service", name = "grader" }))
        end)

        it("is nil for services without a name, user routes without a user and other kinds", function()
            assert.is_nil(route.activity_key({ kind = "service" }))
            assert.is_nil(route.activity_key({ kind = "service", name = "" }))
            assert.is_nil(route.activity_key({ kind = "user", server = "" }))
            assert.is_nil(route.activity_key({ kind = "user", user = 7 }))
            assert.is_nil(route.activity_key({ kind = "other", user = "ada" }))
        end)
    end)
end)
