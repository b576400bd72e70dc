local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "../lua/?.lua;" .. package.path

local query = require "edgehub.query"


describe("edgehub.query", function()
    describe("without", function()
        it("drops the parameter and keeps the others in their order and encoding", function()
            assert.equal("x=1&y=2", query.without("x=1&token=abc&y=2", "token"))
            assert.equal("y=2&x=1", query.without("y=2&token=abc&x=1", "token"))
            assert.equal("q=a%20b&r=%2F", query.without("token=t&q=a%20b&r=%2F", "token"))
        end)

        it("drops every spelling nginx's $arg_token would read: any case, repeated, without a value", function()
            assert.equal("a=1", query.without("TOKEN=x&a=1&Token=y&token", "token"))
        end)

        it("keeps parameters that only start or end like it", function()
            local kept = "tokens=1&xtoken=2&token_type=3"
            assert.equal(kept, query.without(kept .. "&token=4", "token"))
        end)

        it("drops names the server decodes to token (percent-escapes in the name)", function()
            assert.equal("a=1", query.without("%74oken=x&a=1&TOK%45N=y&%74%6F%6B%65%6E", "token"))
            assert.equal("a=%74oken", query.without("a=%74oken", "token"))
        end)

        it("returns the query unchanged, the same string, when it holds no such parameter", function()
            local args = "a=1&&b=%2F&tokens=2"
            assert.equal(args, query.without(args, "token"))
        end)

        it("returns nil when nothing is left, and for no query", function()
            assert.is_nil(query.without("token=abc", "token"))
            assert.is_nil(query.without("", "token"))
            assert.is_nil(query.without(nil, "token"))
            assert.is_nil(query.without("&&token=1&", "token"))
        end)
    end)
end)
