// Scenario 3: WebSocket messages through each proxy: many connections, each sending a small message
// and waiting for its echo back to back (a kernel channel), for a fixed time.
import { benchUsers, params, userPath } from '../lib/params'
import { ratio } from '../lib/stats'
import { wsPingPong, type WsLoadResult, type WsTarget } from '../lib/ws-load'
import type { Scenario } from '../lib/types'
import { ratioTarget, spreadOf } from '../lib/verdict'
import { startSystems } from './http'

const ROUNDS = 3

export const scenario: Scenario = {
  name: 'websocket',
  title: 'WebSocket: small-message round trips over many connections, edgehub vs nginx vs configurable-http-proxy',
  async run(ctx) {
    const p = params.websocket
    const users = benchUsers(ctx.quick ? 10 : Math.min(p.connections, params.http.users))
    const durationSec = ctx.quick ? 1 : p.durationSec
    const connections = ctx.quick ? 20 : p.connections
    const rounds = ctx.quick ? 1 : ROUNDS
    const { systems, bench } = await startSystems(ctx, users, params.http.path)
    const ws = (base: string) => base.replace(/^http/, 'ws')
    const targets: Record<string, WsTarget[]> = {
      nginx: bench.map((u) => ({ url: ws(systems.nginx.url) + userPath(p.path, u.name) })),
      'edgehub (cookie)': bench.map((u) => ({
        url: ws(systems.cookie.url) + userPath(p.path, u.name),
        headers: { Cookie: u.cookie },
      })),
      'configurable-http-proxy': bench.map((u) => ({ url: ws(systems.chp.url) + userPath(p.path, u.name) })),
    }
    const names = Object.keys(targets)
    const runs = new Map<string, WsLoadResult[]>(names.map((n) => [n, []]))
    for (let round = 1; round <= rounds; round++) {
      for (const name of round % 2 ? names : [...names].reverse()) {
        ctx.progress(`round ${round}/${rounds}: ${name}, ${connections} WebSockets for ${durationSec} s`)
        runs
          .get(name)!
          .push(await wsPingPong({ targets: targets[name], connections, durationSec, messageBytes: p.messageBytes }))
      }
    }
    const med = Object.fromEntries(
      [...runs].map(([k, v]) => [
        k,
        [...v].sort((a, b) => a.messagesPerSec - b.messagesPerSec)[Math.floor(v.length / 2)],
      ]),
    )
    const base = med.nginx
    const edge = med['edgehub (cookie)']
    const r = ratio(edge.messagesPerSec, base.messagesPerSec)
    const perRound = (name: string) => runs.get(name)!.map((x) => x.messagesPerSec)
    const rows = names.map((n) => [
      n,
      med[n].messagesPerSec,
      med[n].rttMs.p50,
      med[n].rttMs.p99,
      med[n].rttMs.p999,
      ratio(med[n].messagesPerSec, base.messagesPerSec),
    ])
    return {
      metrics: {
        connections,
        durationSec,
        messageBytes: p.messageBytes,
        rounds,
        median: med,
        runs: Object.fromEntries(runs),
      },
      tables: [
        {
          title: `${connections} connections, ${p.messageBytes}-byte messages, median of ${rounds} runs of ${durationSec} s`,
          columns: ['system', 'messages/s', 'p50 ms', 'p99 ms', 'p99.9 ms', '× nginx'],
          rows,
        },
      ],
      targets: [
        ratioTarget(
          'edgehub WebSocket messages/s / nginx',
          r,
          { op: '>=', goal: 0.9 },
          spreadOf(perRound('edgehub (cookie)'), perRound('nginx')),
        ),
      ],
      plots: [
        {
          kind: 'bars',
          name: 'websocket-throughput',
          title: 'WebSocket echo messages/s per proxy',
          yLabel: 'messages/s',
          categories: names,
          series: [{ name: 'messages/s', values: names.map((n) => med[n].messagesPerSec) }],
        },
      ],
      notes: [
        'The client is one Node process (ws) and the upstream echoes from nginx+Lua; after the upgrade both nginx-based proxies only copy bytes, so the figure mostly shows that nothing on the message path is slower.',
      ],
    }
  },
}
