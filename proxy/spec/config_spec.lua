local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "../lua/?.lua;" .. package.path

local config = require "edgehub.config"


local function init(redis, extra)
    local c = { redis = redis, prefix = "edgehub:" }
    for k, v in pairs(extra or {}) do
        c[k] = v
    end
    config.init(c)
    return config.get()
end


describe("edgehub.config", function()
    it("builds the connection options for one Redis, localhost as 127.0.0.1", function()
        local c = init({ host = "localhost", port = 6379, password = "pw", db = 2 })
        assert.same({
            host = "127.0.0.1", port = 6379, password = "pw", db = 2,
            connect_timeout = 1000, send_timeout = 2000, read_timeout = 5000,
        }, c.redis_opts)
        assert.equal(10, c.activity_flush_sec)
        assert.equal("edgehub:activity", c.keys.activity)
    end)

    it("logs in as an ACL user: the user name goes with the password, to the master of either form", function()
        local c = init({ host = "127.0.0.1", port = 6379, username = "edgehub-proxy", password = "pw" })
        assert.equal("edgehub-proxy", c.redis_opts.username)
        assert.equal("pw", c.redis_opts.password)
        c = init({ sentinels = { { host = "127.0.0.1", port = 26379 } }, master_name = "m",
                   username = "edgehub-proxy", password = "pw",
                   sentinel_username = "edgehub-sentinel", sentinel_password = "spw" })
        assert.equal("edgehub-proxy", c.redis_opts.username)
        assert.equal("edgehub-sentinel", c.redis_opts.sentinel_username)
        assert.has_error(function()
            init({ sentinels = { { host = "127.0.0.1", port = 26379 } }, master_name = "m", sentinel_username = "s" })
        end, "edgehub.config.init: redis.sentinel_username needs redis.sentinel_password (both strings)")
        assert.has_error(function()
            init({ host = "127.0.0.1", port = 6379, username = "edgehub-proxy" })
        end, "edgehub.config.init: redis.username needs redis.password (both strings)")
    end)

    it("takes sentinels and a master name instead of host and port", function()
        local c = init({
            sentinels = { { host = "localhost", port = 26379 }, { host = "10.0.0.2", port = 26380 } },
            master_name = "main", sentinel_password = "spw", password = "mpw",
        }, { activity_flush_sec = 1 })
        local o = c.redis_opts
        assert.is_nil(o.host)
        assert.same({ { host = "127.0.0.1", port = 26379 }, { host = "10.0.0.2", port = 26380 } }, o.sentinels)
        assert.equal("main", o.master_name)
        assert.equal("spw", o.sentinel_password)
        assert.equal("mpw", o.password)
        assert.equal(1, c.activity_flush_sec)
    end)

    it("rejects a Redis without host/port or sentinels", function()
        assert.has_error(function() init({ port = 6379 }) end,
            "edgehub.config.init: redis.host and redis.port are required")
        assert.has_error(function() init({ sentinels = {}, master_name = "m" }) end,
            "edgehub.config.init: redis.sentinels must list at least one { host, port }")
        assert.has_error(function() init({ sentinels = { { host = "h" } }, master_name = "m" }) end,
            "edgehub.config.init: redis.sentinels[1] must be { host, port }")
        assert.has_error(function() init({ sentinels = { { host = "h", port = 1 } } }) end,
            "edgehub.config.init: redis.master_name is required with redis.sentinels")
    end)

    it("rejects an activity flush interval below 1 s", function()
        assert.has_error(function() init({ host = "h", port = 1 }, { activity_flush_sec = 0 }) end,
            "edgehub.config.init: activity_flush_sec must be a number >= 1")
    end)
end)
