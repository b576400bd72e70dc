// The benchmark's verdicts (bench/lib/verdict.ts): a ratio whose spread over the interleaved rounds is
// wider than its distance to the goal is inconclusive, whichever side its value is on; a figure
// without a goal is reported, never met. Cases from bench/results/2026-12-06.json.
import { describe, expect, it } from 'vitest'
import { bounded, ratioTarget, ratioVerdict, reported, spreadOf } from '../../bench/lib/verdict'

describe('bench verdicts', () => {
  it('takes the spread from the rounds, each round its own pair of runs', () => {
    const s = spreadOf([23183, 26069, 29578], [27444, 30219, 33300])
    expect(s).toEqual({ rounds: [0.845, 0.863, 0.888], min: 0.845, max: 0.888 })
  })

  it('calls a ratio inconclusive when the rounds straddle the goal by more than its distance to it', () => {
    // edgehub (cookie) throughput / nginx: 0.863, rounds 0.845–0.888, goal 0.9: spread 0.043 > 0.037
    expect(ratioVerdict(0.863, { op: '>=', goal: 0.9 }, spreadOf([23183, 26069, 29578], [27444, 30219, 33300]))).toBe(
      'inconclusive',
    )
    // the same value with tight rounds is a miss
    expect(ratioVerdict(0.863, { op: '>=', goal: 0.9 }, { rounds: [0.86, 0.863, 0.87], min: 0.86, max: 0.87 })).toBe(
      'missed',
    )
    // a wide spread far from the goal still decides: throughput / configurable-http-proxy 8.7, rounds 8.2–9.9, goal 5
    expect(ratioVerdict(8.701, { op: '>=', goal: 5 }, { rounds: [8.209, 8.45, 9.872], min: 8.209, max: 9.872 })).toBe(
      'met',
    )
    // an upper bound: p99 / nginx 1.216, rounds 1.038–1.216, goal 1.3: spread 0.178 > 0.084
    expect(
      ratioVerdict(1.216, { op: '<=', goal: 1.3 }, { rounds: [1.049, 1.216, 1.038], min: 1.038, max: 1.216 }),
    ).toBe('inconclusive')
    expect(ratioVerdict(1.1, { op: '<=', goal: 1.3 }, { rounds: [1.09, 1.1, 1.12], min: 1.09, max: 1.12 })).toBe('met')
    // one round: no spread to judge by
    expect(ratioVerdict(0.95, { op: '>=', goal: 0.9 }, { rounds: [0.95], min: 0.95, max: 0.95 })).toBe('met')
  })

  it('shows the spread with the value, and reports figures without a goal as reported', () => {
    const t = ratioTarget(
      'x / y',
      0.913,
      { op: '>=', goal: 0.9 },
      { rounds: [1.103, 0.908, 0.959], min: 0.908, max: 1.103 },
    )
    expect(t).toMatchObject({ goal: '>= 0.9', value: '0.913 (runs 0.908–1.103)', verdict: 'inconclusive' })
    expect(reported('memory', '61 MiB')).toEqual({
      name: 'memory',
      goal: 'reported',
      value: '61 MiB',
      verdict: 'reported',
    })
    expect(bounded('p99', 12.7, { op: '<', goal: 20, unit: ' ms' }, '12.7 ms')).toMatchObject({
      goal: '< 20 ms',
      verdict: 'met',
    })
    expect(bounded('p99', 19.0, { op: '<', goal: 10, unit: ' ms' }).verdict).toBe('missed')
    expect(bounded('p99', NaN, { op: '<', goal: 10 }).verdict).toBe('missed')
  })
})
