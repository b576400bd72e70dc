// Scenario 8: soak. 1,000,000 proxied requests (with 1 in 100 a hub API call) and 10,000 WebSocket
// connects/disconnects through a real hub stack; proxy and hub memory before and after.
import { join } from 'node:path'
import { benchUsers, params, userPath } from '../lib/params'
import { startHubStack } from '../lib/hub-stack'
import { inspectFlag, liveHeapBytes } from '../lib/heap'
import { freePort } from '../../runtime/src/ports'
import { hubUsers } from '../lib/hub-users'
import { startUpstream } from '../lib/upstream'
import { expectAnswer, jsonField } from '../lib/check'
import { loadRun } from '../lib/measure'
import { memoryKiB, processTree } from '../lib/proc'
import { round } from '../lib/stats'
import { wsCycles } from '../lib/ws-load'
import type { Scenario } from '../lib/types'
import { bounded } from '../lib/verdict'
import type { WrkRequest } from '../lib/wrk'
import { cookieRequests, PROXY_WORKERS } from './http'

const CHUNK_SEC = 10
const mib = (kib: number) => round(kib / 1024, 1)
const WARM_UP_SEC = 10
const growth = (before: number, after: number) => round((after / before - 1) * 100, 2)

export const scenario: Scenario = {
  name: 'soak',
  title: 'Soak: 1,000,000 requests and 10,000 WebSocket connects through a hub stack, memory before and after',
  async run(ctx) {
    const p = params.soak
    const total = ctx.quick ? 20_000 : p.requests
    const wsTotal = ctx.quick ? 200 : p.wsConnects
    const upstream = await startUpstream(join(ctx.dir, 'upstream'))
    ctx.cleanups.push(() => upstream.stop())
    // the hub's inspector (loopback) measures its live heap after a full collection
    const inspectPort = await freePort()
    const stack = await startHubStack({
      dir: ctx.dir,
      cleanups: ctx.cleanups,
      hubNodeArgs: [inspectFlag(inspectPort)],
      overrides: { proxy: { workers: PROXY_WORKERS }, logLevel: 'warn' },
    })
    const users = await hubUsers(stack.deps, benchUsers(ctx.quick ? 10 : p.users), upstream.port)
    // the mix: every user's page in turn, then one hub API call
    const requests: WrkRequest[] = [
      ...cookieRequests(users, p.path),
      { path: '/hub/api/user', headers: { Authorization: `token ${users[0].token}` } },
    ]
    // every user's page answers the upstream's "ok", the hub API call the user's own model
    for (const r of requests)
      await expectAnswer(
        stack.url,
        r,
        200,
        'the hub stack',
        r.path.startsWith('/hub/') ? jsonField('name', users[0].name) : undefined,
      )
    const ws = stack.url.replace(/^http/, 'ws')
    const wsTargets = users.map((u) => ({ url: ws + userPath(p.wsPath, u.name), headers: { Cookie: u.cookie } }))
    const memory = () => ({ proxy: memoryKiB(processTree(stack.proxy.pid)), hub: memoryKiB([stack.hubPid]) })
    const load = (sec: number) =>
      loadRun({
        system: 'edgehub',
        url: stack.url,
        pid: stack.proxy.pid,
        requests,
        connections: p.connections,
        durationSec: sec,
        dir: ctx.dir,
      })

    // long enough for the proxy workers' Lua heaps to reach their working size (about 150,000 requests)
    const warmUpSec = ctx.quick ? 1 : WARM_UP_SEC
    ctx.progress(`warm-up: ${warmUpSec} s of load and 500 WebSocket connects`)
    await load(warmUpSec)
    await wsCycles({ targets: wsTargets, count: ctx.quick ? 50 : 500, concurrency: 50 })
    const before = memory()
    const heapBefore = await liveHeapBytes(inspectPort)
    // The hub's RSS follows V8's collections up and down by 10–20 %; a leak raises its floor. Sampled
    // every 200 ms, the floor of the first third of the run is compared with that of the last third.
    const hubSamples: number[] = []
    const sampler = setInterval(() => hubSamples.push(memoryKiB([stack.hubPid]).rss), 200)
    ctx.cleanups.push(() => clearInterval(sampler))
    const series: Array<[number, number, number]> = [[0, mib(before.proxy.pss), mib(before.hub.rss)]]
    let done = 0
    let busySec = 0
    while (done < total) {
      const left = total - done
      const r = await load(
        ctx.quick ? 1 : Math.max(1, Math.min(CHUNK_SEC, Math.ceil(left / Math.max(1, done / Math.max(busySec, 1))))),
      )
      done += r.requests
      busySec += r.seconds
      const m = memory()
      series.push([done, mib(m.proxy.pss), mib(m.hub.rss)])
      ctx.progress(
        `${done.toLocaleString('en')} / ${total.toLocaleString('en')} requests; proxy ${mib(m.proxy.pss)} MiB, hub ${mib(m.hub.rss)} MiB`,
      )
    }
    ctx.progress(`${wsTotal} WebSocket connect/echo/close cycles`)
    const cycles = await wsCycles({
      targets: wsTargets,
      count: wsTotal,
      concurrency: 50,
      onProgress: (n) => ctx.progress(`${n} WebSocket cycles`),
    })
    if (cycles.failures) throw new Error(`${cycles.failures} of ${cycles.count} WebSocket cycles failed`)
    const after = memory()
    const heapAfter = await liveHeapBytes(inspectPort)
    clearInterval(sampler)
    const third = Math.max(1, Math.floor(hubSamples.length / 3))
    const hubFloor = { first: Math.min(...hubSamples.slice(0, third)), last: Math.min(...hubSamples.slice(-third)) }
    series.push([done + 1, mib(after.proxy.pss), mib(after.hub.rss)])
    const proxyGrowth = growth(before.proxy.pss, after.proxy.pss)
    const hubGrowth = growth(heapBefore, heapAfter)
    const hubRssGrowth = growth(before.hub.rss, after.hub.rss)
    return {
      metrics: {
        requests: done,
        seconds: round(busySec, 1),
        wsCycles: cycles,
        before,
        after,
        hubLiveHeapBytes: { before: heapBefore, after: heapAfter },
        hubFloorKiB: hubFloor,
        hubSamples: hubSamples.length,
        series,
      },
      tables: [
        {
          title: `${done.toLocaleString('en')} requests in ${round(busySec, 1)} s (${p.connections} connections, 1 in ${requests.length} to /hub/api/user), then ${cycles.count} WebSocket cycles in ${cycles.seconds} s`,
          columns: ['process', 'before MiB', 'after MiB', 'growth %'],
          rows: [
            ['proxy, all processes (PSS)', mib(before.proxy.pss), mib(after.proxy.pss), proxyGrowth],
            [
              'proxy, all processes (RSS)',
              mib(before.proxy.rss),
              mib(after.proxy.rss),
              growth(before.proxy.rss, after.proxy.rss),
            ],
            ['hub (live V8 heap after a full collection)', mib(heapBefore / 1024), mib(heapAfter / 1024), hubGrowth],
            ['hub (RSS)', mib(before.hub.rss), mib(after.hub.rss), hubRssGrowth],
            [
              'hub (RSS floor: lowest of the first and of the last third)',
              mib(hubFloor.first),
              mib(hubFloor.last),
              growth(hubFloor.first, hubFloor.last),
            ],
          ],
        },
      ],
      targets: [
        bounded('proxy memory growth', proxyGrowth, { op: '<', goal: 5, unit: '%' }, `${proxyGrowth}%`),
        bounded(
          'hub memory growth (live heap)',
          hubGrowth,
          { op: '<', goal: 5, unit: '%' },
          `${hubGrowth}% (RSS ${hubRssGrowth}%)`,
        ),
      ],
      plots: [
        {
          kind: 'line',
          name: 'soak-memory',
          title: 'Memory during the soak',
          xLabel: 'requests served',
          yLabel: 'MiB',
          series: [
            { name: 'proxy (PSS)', points: series.map(([n, px]) => [n, px]) },
            { name: 'hub (RSS)', points: series.map(([n, , hub]) => [n, hub]) },
          ],
        },
      ],
      notes: [
        `"Before" is measured after a warm-up (${warmUpSec} s of the same load and 500 WebSocket cycles), so caches, connection pools and the proxy workers' Lua heaps have reached their working size.`,
        `The hub's target is its live heap: a full collection through the inspector, then the heap in use, before and after. Its RSS is shown too (one sample each, and the floor of ${hubSamples.length} samples taken every 200 ms over the first and last third): it follows how much garbage V8 lets accumulate between collections, which grows with the allocation rate until V8's heap sizing settles, whatever the process retains.`,
      ],
    }
  },
}
