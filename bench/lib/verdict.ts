// Targets and their verdicts. A bound target (a figure against a goal) is met or missed. A ratio
// measured over interleaved rounds carries its spread: the ratio in each round, taken between the
// runs of that round only (closest in time, so the machine's drift between them is the least). When
// that spread (max - min) is wider than the ratio's distance to the goal, the rounds disagree about
// which side of the goal it lies on, and the verdict is inconclusive, whichever side the median is.
// A figure shown without a goal is "reported", never "met".
import { round } from './stats'
import type { Spread, Target, Verdict } from './types'

export type Bound = {
  op: '>=' | '<=' | '<' | '>'
  goal: number
  /** shown after the goal, e.g. ' ms', '%' */ unit?: string
}

const showGoal = (b: Bound) => `${b.op} ${b.goal}${b.unit ?? ''}`

const holds = (v: number, b: Bound) =>
  b.op === '>=' ? v >= b.goal : b.op === '<=' ? v <= b.goal : b.op === '<' ? v < b.goal : v > b.goal

/** A figure checked against a bound (no rounds to compare): met or missed. */
export function bounded(name: string, value: number, bound: Bound, shown = String(value)): Target {
  return {
    name,
    goal: showGoal(bound),
    value: shown,
    verdict: Number.isFinite(value) && holds(value, bound) ? 'met' : 'missed',
  }
}

/** A yes/no target (every login succeeded, nothing left): met or missed. */
export function check(name: string, goal: string, value: string, ok: boolean): Target {
  return { name, goal, value, verdict: ok ? 'met' : 'missed' }
}

/** A figure shown without a goal it could miss. */
export function reported(name: string, value: string, spread?: Spread): Target {
  return {
    name,
    goal: 'reported',
    value: spread ? `${value} ${showSpread(spread)}` : value,
    verdict: 'reported',
    ...(spread && { spread }),
  }
}

/** The ratio in each round: a[i] / b[i] over the rounds both have. */
export function spreadOf(a: number[], b: number[]): Spread {
  const rounds = a.slice(0, Math.min(a.length, b.length)).map((x, i) => round(x / b[i], 3))
  return { rounds, min: Math.min(...rounds), max: Math.max(...rounds) }
}

export const showSpread = (s: Spread) => (s.rounds.length > 1 ? `(runs ${s.min}–${s.max})` : '(one run)')

/** The verdict of a ratio with its spread against a bound. */
export function ratioVerdict(value: number, bound: Bound, spread: Spread): Verdict {
  if (!Number.isFinite(value)) return 'missed'
  const tolerance = Math.abs(value - bound.goal)
  if (spread.rounds.length > 1 && spread.max - spread.min > tolerance) return 'inconclusive'
  return holds(value, bound) ? 'met' : 'missed'
}

/** A ratio target: the value, its spread over the rounds, and met / missed / inconclusive. */
export function ratioTarget(name: string, value: number, bound: Bound, spread: Spread): Target {
  return {
    name,
    goal: showGoal(bound),
    value: `${value} ${showSpread(spread)}`,
    verdict: ratioVerdict(value, bound, spread),
    spread,
  }
}

/** How a verdict is printed on the terminal and in the markdown. */
export const VERDICT_LABEL: Record<Verdict, { terminal: string; markdown: string }> = {
  met: { terminal: 'met         ', markdown: 'met' },
  missed: { terminal: 'MISSED      ', markdown: '**missed**' },
  reported: { terminal: 'reported    ', markdown: 'reported' },
  inconclusive: { terminal: 'INCONCLUSIVE', markdown: '*inconclusive*' },
}
