local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "../lua/?.lua;" .. package.path

local b64 = require "edgehub.base64url"


describe("edgehub.base64url", function()
    it("encodes RFC 4648 vectors without padding, url alphabet", function()
        assert.equal("", b64.encode(""))
        assert.equal("Zg", b64.encode("f"))
        assert.equal("Zm8", b64.encode("fo"))
        assert.equal("Zm9v", b64.encode("foo"))
        assert.equal("Zm9vYmFy", b64.encode("foobar"))
        assert.equal("-_8", b64.encode("\251\255"))
    end)

    it("decodes what it encodes, for every byte value", function()
        local all = {}
        for i = 0, 255 do all[#all + 1] = string.char(i) end
        local s = table.concat(all)
        for n = 0, 5 do
            assert.equal(s:sub(1, 250 + n), b64.decode(b64.encode(s:sub(1, 250 + n))))
        end
    end)

    it("rejects characters outside the alphabet and impossible lengths", function()
        assert.is_nil(b64.decode("Zm9v+A"))
        assert.is_nil(b64.decode("Zm9v="))
        assert.is_nil(b64.decode("Z"))
    end)
end)
