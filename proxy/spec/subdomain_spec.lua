local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "../lua/?.lua;" .. package.path

local subdomain = require "edgehub.subdomain"


-- SHA-256 of the names below, and their labels, from subdomainLabel() in
-- control-plane/src/http/subdomain.ts (the hub writes the same URLs the proxy serves).
local NAMES = {
    { "alice", "alice", "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90" },
    { "a-b", "a-b", "d44362d67d921091c7b9674d752e9e23c1f9ec8a4f0b82741bf01364eb97c830" },
    { "a--b", "u-ab--90827a2", "90827a2e56361a8fd77208d8b32b17de27b7a816400b20966812473e76b697e8" },
    { "Alice", "u-alice--3bc5106", "3bc51062973c458d5a6f2d8d64a023246354ad7e064b1e4e009ec8a0699a3043" },
    { "123", "u-123--a665a45", "a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3" },
    { "x_y", "u-xy--f9068e8", "f9068e8172f51b166fdd1546494f1136129eb891d244d6cc5bf3f1ef21b64729" },
    { "caf\195\169", "u-caf--850f7dc", "850f7dc43910ff890f8879c0ed26fe697c93a067ad93a7d50f466a7028a9bf4e" },
    { string.rep("a", 64), "u-aaaaaaaa--ffe054f", "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
    { "-ab", "u-ab--acac1ee", "acac1ee8f4dded7b044ae0378afe752e330e799eb9c10ada9dbe939f3d57d2ea" },
    { "zo\195\171.o'neil", "u-zooneil--02ddefd", "02ddefd1f011b8c53a5281a0c822a18ca418e6261a57a4bca53303035ff0c43d" },
}

local function sha256_hex(s)
    for _, n in ipairs(NAMES) do
        if n[1] == s then return n[3] end
    end
    error("no digest for " .. s)
end


describe("edgehub.subdomain", function()
    it("labels names as the hub does: DNS labels as they are, others hashed", function()
        for _, n in ipairs(NAMES) do
            assert.equal(n[2], subdomain.label(n[1], sha256_hex), n[1])
        end
        assert.equal(63, #subdomain.label(string.rep("b", 63), sha256_hex))
    end)

    it("parses subdomainHost: scheme, host without the default port, origin", function()
        local c = subdomain.parse_url("HTTPS://Hub.Example.org:443/")
        assert.same({ scheme = "https", host = "hub.example.org", origin = "https://hub.example.org" }, c)
        c = subdomain.parse_url("http://hub.localhost:8123")
        assert.same({ scheme = "http", host = "hub.localhost:8123", origin = "http://hub.localhost:8123" }, c)
        assert.is_nil((subdomain.parse_url("ftp://hub.example.org")))
        assert.is_nil((subdomain.parse_url("https://hub.example.org/x")))
        assert.is_nil((subdomain.parse_url("https://u@hub.example.org")))
        assert.is_nil((subdomain.parse_url("hub.example.org")))
        assert.is_nil((subdomain.parse_url(nil)))
    end)

    it("tells the hub's host, users' hosts and names under ours that are no user's apart", function()
        local hub = "hub.example.org"
        assert.is_nil(subdomain.host_label("hub.example.org", hub))
        assert.is_nil(subdomain.host_label("127.0.0.1:8000", hub))
        assert.is_nil(subdomain.host_label("evilhub.example.org", hub))
        assert.is_nil(subdomain.host_label(".hub.example.org", hub))
        assert.is_nil(subdomain.host_label(nil, hub))
        assert.equal("alice", subdomain.host_label("alice.hub.example.org", hub))
        assert.is_false(subdomain.host_label("a.b.hub.example.org", hub))
        -- the port is part of the host
        assert.is_nil(subdomain.host_label("alice.hub.example.org:8443", hub))
        assert.equal("bob", subdomain.host_label("bob.hub.localhost:8123", "hub.localhost:8123"))
    end)

    it("normalizes Host as browsers send it", function()
        assert.equal("alice.hub.example.org", subdomain.normalize_host("https", "Alice.Hub.Example.org:443"))
        assert.equal("alice.hub.example.org:80", subdomain.normalize_host("https", "alice.hub.example.org:80"))
        assert.equal("alice.hub.example.org", subdomain.normalize_host("http", "alice.hub.example.org:80"))
    end)

    it("builds a user's origin", function()
        local c = subdomain.parse_url("https://hub.example.org")
        assert.equal("https://alice.hub.example.org", subdomain.user_origin(c, "alice", sha256_hex))
        assert.equal("https://u-alice--3bc5106.hub.example.org", subdomain.user_origin(c, "Alice", sha256_hex))
    end)

    it("lets a server set cookies for its own host only, and none of the hub's names", function()
        assert.is_true(subdomain.cookie_allowed("_xsrf=2|abc; Path=/user/alice/; SameSite=Lax"))
        assert.is_true(subdomain.cookie_allowed("x=1; HttpOnly"))
        assert.is_true(subdomain.cookie_allowed("mydomain=1"))
        assert.is_false(subdomain.cookie_allowed("edgehub-session=x; Domain=hub.example.org; Path=/"))
        assert.is_false(subdomain.cookie_allowed("x=1; Path=/; domain=.hub.example.org"))
        assert.is_false(subdomain.cookie_allowed("x=1;DOMAIN = hub.example.org"))
        assert.is_false(subdomain.cookie_allowed("edgehub-host-session=garbage; Path=/user/alice/"))
        assert.is_false(subdomain.cookie_allowed(" Edgehub-xsrf=1"))
        assert.is_false(subdomain.cookie_allowed(nil))
    end)

    it("takes next only as a path on the same host", function()
        assert.equal("/user/alice/tree?x=1", subdomain.safe_next("/user/alice/tree?x=1"))
        assert.equal("/", subdomain.safe_next("/"))
        for _, bad in ipairs({ "//evil.example/", "/\\evil.example", "https://evil.example/", "evil",
            "", "/a\r\nSet-Cookie: x=y", "/a\\b", string.rep("/", 1) .. string.rep("a", 5000) }) do
            assert.is_nil(subdomain.safe_next(bad), bad)
        end
        assert.is_nil(subdomain.safe_next({ "/a", "/b" }))
        assert.is_nil(subdomain.safe_next(nil))
    end)
end)
