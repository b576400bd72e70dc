local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "../lua/?.lua;" .. package.path


-- a lua_shared_dict as far as metrics.lua uses it
local function fake_dict(capacity)
    local data, d = {}, {}
    function d.incr(_, key, by, init)
        data[key] = (data[key] or init) + by
        return data[key]
    end
    function d.get(_, key) return data[key] end
    function d.set(_, key, value) data[key] = value return true end
    function d.get_keys()
        local keys = {}
        for k in pairs(data) do keys[#keys + 1] = k end
        return keys
    end
    function d.capacity() return capacity end
    function d.free_space() return capacity - 4096 end
    d.data = data
    return d
end


local function sample(text, line_start)
    for line in text:gmatch("[^\n]+") do
        if line:sub(1, #line_start + 1) == line_start .. " " then
            return tonumber(line:sub(#line_start + 2))
        end
    end
end


describe("edgehub.metrics", function()
    local metrics, shared

    before_each(function()
        _G.ngx = _G.ngx or {}
        package.loaded["edgehub.metrics"] = nil
        metrics = require "edgehub.metrics"
        shared = {
            edgehub = fake_dict(1048576),
            edgehub_sync = fake_dict(8388608),
            edgehub_metrics = fake_dict(1048576),
        }
    end)

    it("counts nothing while off", function()
        metrics.init(false, shared)
        metrics.request("hub", 200, 0.01)
        metrics.auth_failure("forbidden")
        metrics.flushed(true)
        assert.same({}, shared.edgehub_metrics.data)
    end)

    it("counts requests by kind and status class, with a cumulative latency histogram", function()
        metrics.init(true, shared)
        metrics.request("server", 200, 0.003)
        metrics.request("server", 204, 0.2)
        metrics.request("server", 502, 100)      -- past the last bound: +Inf only
        metrics.request("hub", 302, 0.05)
        metrics.request("service", 101, nil)     -- an upgraded connection: no latency
        local status = { synced = true, connected = true, version = "42", last_sync = 90 }
        local text = metrics.exposition(status, 100, shared)
        assert.equal(2, sample(text, 'edgehub_proxy_requests_total{kind="server",code="2xx"}'))
        assert.equal(1, sample(text, 'edgehub_proxy_requests_total{kind="server",code="5xx"}'))
        assert.equal(1, sample(text, 'edgehub_proxy_requests_total{kind="hub",code="3xx"}'))
        assert.equal(1, sample(text, 'edgehub_proxy_requests_total{kind="service",code="1xx"}'))
        assert.equal(1, sample(text, 'edgehub_proxy_request_duration_seconds_bucket{kind="server",le="0.005"}'))
        assert.equal(2, sample(text, 'edgehub_proxy_request_duration_seconds_bucket{kind="server",le="0.25"}'))
        assert.equal(2, sample(text, 'edgehub_proxy_request_duration_seconds_bucket{kind="server",le="60"}'))
        assert.equal(3, sample(text, 'edgehub_proxy_request_duration_seconds_bucket{kind="server",le="+Inf"}'))
        assert.equal(3, sample(text, 'edgehub_proxy_request_duration_seconds_count{kind="server"}'))
        assert.near(100.203, sample(text, 'edgehub_proxy_request_duration_seconds_sum{kind="server"}'), 1e-9)
        -- a bucket is exactly the boundary: le is "less than or equal"
        assert.equal(1, sample(text, 'edgehub_proxy_request_duration_seconds_bucket{kind="hub",le="0.05"}'))
        assert.equal(0, sample(text, 'edgehub_proxy_request_duration_seconds_count{kind="service"}'))
        assert.equal(42, sample(text, "edgehub_proxy_sync_version"))
        assert.equal(10, sample(text, "edgehub_proxy_sync_age_seconds"))
        assert.equal(1, sample(text, "edgehub_proxy_synced"))
    end)

    it("keeps a small fixed set of keys however many requests come", function()
        metrics.init(true, shared)
        for i = 1, 2000 do
            metrics.request(metrics.KINDS[i % 3 + 1], 100 + i % 500, i / 100)
            metrics.auth_failure(i % 2 == 0 and "forbidden" or "login_required")
            metrics.flushed(i % 7 ~= 0)
        end
        local n = 0
        for _ in pairs(shared.edgehub_metrics.data) do n = n + 1 end
        assert.is_true(n <= #metrics.keys_of())
        local text = metrics.exposition({}, 0, shared)
        assert.equal(1000, sample(text, 'edgehub_proxy_auth_failures_total{reason="forbidden"}'))
        assert.equal(285, sample(text, 'edgehub_proxy_activity_flushes_total{result="error"}'))
    end)

    it("counts the proxy tables held, and reports each shared dict's size and free space", function()
        metrics.init(true, shared)
        shared.edgehub:set("routes|/user/ada/", "{}")
        shared.edgehub:set("routes|/user/bob/", "{}")
        shared.edgehub:set("tokens|abc", "{}")
        local text = metrics.exposition({ synced = false }, 1000, shared)
        assert.equal(2, sample(text, 'edgehub_proxy_table_entries{table="routes"}'))
        assert.equal(1, sample(text, 'edgehub_proxy_table_entries{table="tokens"}'))
        assert.equal(0, sample(text, 'edgehub_proxy_table_entries{table="keys"}'))
        assert.equal(8388608, sample(text, 'edgehub_proxy_shared_dict_capacity_bytes{dict="edgehub_sync"}'))
        assert.equal(1048576 - 4096, sample(text, 'edgehub_proxy_shared_dict_free_bytes{dict="edgehub"}'))
        assert.equal(0, sample(text, "edgehub_proxy_synced"))
    end)

    it("refuses to start on when the dict is missing", function()
        assert.has_error(function() metrics.init(true, {}) end)
    end)
end)
