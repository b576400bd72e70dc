local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "../lua/?.lua;" .. package.path

_G.ngx = _G.ngx or {}
local pages = require "edgehub.pages"


describe("the proxy's override pages", function()
    local dir = os.tmpname()

    before_each(function()
        os.remove(dir)
        os.execute("mkdir -p " .. dir)
    end)
    after_each(function()
        os.execute("rm -rf " .. dir)
        pages.init(nil)
    end)

    it("fills in the placeholders, escaped, and leaves unknown ones as written", function()
        local html = pages.from_override("<h1>{{title}}</h1><p>{{message}}</p><i>{{status}}</i>{{other}}",
            503, "Hub <away>", "a & b")
        assert.are.equal("<h1>Hub &lt;away&gt;</h1><p>a &amp; b</p><i>503</i>{{other}}", html)
    end)

    it("reads the three files at init and refuses one over 64 KiB", function()
        local f = io.open(dir .. "/proxy-403.html", "wb")
        f:write("<p>{{status}}</p>")
        f:close()
        assert.has_no.errors(function() pages.init(dir) end)
        assert.are.equal("<p>{{status}}</p>", pages.override_for(403))
        assert.is_nil(pages.override_for(502))
        f = io.open(dir .. "/proxy-502.html", "wb")
        f:write(string.rep("x", 65537))
        f:close()
        assert.has_error(function() pages.init(dir) end)
    end)
end)
