// deploy/grafana/edgehub.json asks only for metrics the hub and the proxy export: the hub's names
// from its registry, the proxy's from metrics.lua's exposition (run with a Lua interpreter).
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { HubMetrics } from './hub-metrics'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const familyNames = (text: string) => [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1])

const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/edgehub.json'), 'utf8'))

/** Every metric name a query of the dashboard names (words that begin as ours or JupyterHub's do). */
function queriedNames(): Set<string> {
  const names = new Set<string>()
  for (const p of dashboard.panels)
    for (const t of p.targets ?? [])
      for (const m of (t.expr as string).matchAll(/\b(?:edgehub|jupyterhub|process|nodejs)_[a-z0-9_]+/g))
        names.add(m[0])
  return names
}

/** Sample names of an exposition's families: a histogram's _bucket, _sum and _count too. */
function sampleNames(families: Array<{ name: string; type: string }>): Set<string> {
  const out = new Set<string>()
  for (const f of families) {
    out.add(f.name)
    if (f.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(f.name + s)
  }
  return out
}

async function hubNames(): Promise<Set<string>> {
  const json = await new HubMetrics().registry.getMetricsAsJSON()
  return sampleNames(json.map((m) => ({ name: m.name, type: String(m.type) })))
}

const LUA = ['lua', 'lua5.1', 'lua5.2', 'luajit'].find((l) => spawnSync(l, ['-v']).status === 0)

function proxyNames(): Set<string> {
  // metrics.lua's exposition with every metric on, over dicts as small fakes of lua_shared_dict
  const script = `
package.path = ${JSON.stringify(join(ROOT, 'proxy/lua'))} .. "/?.lua;" .. package.path
ngx = {}
local function dict()
  local data = {}
  return {
    incr = function(_, k, by, init) data[k] = (data[k] or init) + by return data[k] end,
    get = function(_, k) return data[k] end,
    set = function(_, k, v) data[k] = v return true end,
    get_keys = function() return {} end,
    capacity = function() return 1048576 end,
    free_space = function() return 1024 end,
  }
end
local shared = { edgehub = dict(), edgehub_sync = dict(), edgehub_metrics = dict() }
local metrics = require "edgehub.metrics"
metrics.init(true, shared)
io.write(metrics.exposition({ synced = true, connected = true, version = 1, last_sync = 0 }, 1, shared))`
  const r = spawnSync(LUA as string, ['-e', script], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`lua: ${r.stderr}`)
  const text = r.stdout
  const families = familyNames(text).map((name) => ({
    name,
    type: new RegExp(`^# TYPE ${name} (\\S+)`, 'm').exec(text)?.[1] ?? '',
  }))
  return sampleNames(families)
}

describe('deploy/grafana/edgehub.json', () => {
  it('queries only metrics the hub or the proxy exports, and some of each', async () => {
    const exported = new Set([...(await hubNames()), ...proxyNames()])
    const queried = queriedNames()
    expect([...queried].filter((n) => !exported.has(n))).toEqual([])
    expect([...queried].filter((n) => n.startsWith('jupyterhub_')).length).toBeGreaterThanOrEqual(5)
    expect([...queried].filter((n) => n.startsWith('edgehub_proxy_')).length).toBeGreaterThanOrEqual(8)
  })

  it('is a Grafana dashboard whose panels each have a query and their own place', () => {
    expect(dashboard).toMatchObject({ uid: 'edgehub', title: 'edgehub' })
    const ids = dashboard.panels.map((p: { id: number }) => p.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const p of dashboard.panels.filter((q: { type: string }) => q.type !== 'row'))
      expect(p.targets.length, p.title).toBeGreaterThan(0)
  })
})
