// What a benchmark scenario is and what it reports. bench/run.ts runs scenarios and writes their
// results to bench/results/<date>.json, a markdown summary and SVG plots (bench/lib/report.ts).
import type { Cleanups } from './cleanup'

export interface ScenarioContext {
  /** A scratch directory for this scenario (removed afterwards). */
  dir: string
  /** Shorter runs and smaller sizes: the harness's own smoke test, not a measurement. */
  quick: boolean
  /** Everything a scenario starts is registered here and stopped by pid, also on Ctrl-C. */
  cleanups: Cleanups
  /** One progress line on the terminal. */
  progress(message: string): void
}

/**
 * How a target came out: `met` or `missed` against its goal; `reported` for a figure shown without a
 * goal it could miss; `inconclusive` for a ratio whose spread over the interleaved runs is wider than
 * its distance to the goal (the runs disagree about which side of the goal it is on).
 */
export type Verdict = 'met' | 'missed' | 'reported' | 'inconclusive'

/** A ratio's value in each interleaved round (each round's runs of both systems), and their range. */
export interface Spread {
  rounds: number[]
  min: number
  max: number
}

/** A target of the issue, checked against a measured value (bench/lib/verdict.ts builds them). */
export interface Target {
  name: string
  /** Human-readable goal, e.g. ">= 0.9"; "reported" for a figure without one. */
  goal: string
  /** The measured figure, as shown (a ratio with its spread over the rounds). */
  value: string
  verdict: Verdict
  /** For ratios: the value in each round; the verdict is inconclusive when max - min exceeds |value - goal|. */
  spread?: Spread
}

export interface Table {
  title: string
  columns: string[]
  rows: Array<Array<string | number>>
}

/** A line chart (x numeric, log scale optional) or grouped bars (categories). */
export type Plot =
  | {
      kind: 'line'
      /** File name stem, e.g. "routes-throughput" → <date>-routes-throughput.svg */
      name: string
      title: string
      xLabel: string
      yLabel: string
      logX?: boolean
      series: Array<{ name: string; points: Array<[number, number]> }>
    }
  | {
      kind: 'bars'
      name: string
      title: string
      yLabel: string
      categories: string[]
      series: Array<{ name: string; values: number[] }>
    }

export interface ScenarioResult {
  /** Raw figures, written to the JSON as they are. */
  metrics: Record<string, unknown>
  tables: Table[]
  targets: Target[]
  plots?: Plot[]
  /** Free-form remarks (what was measured, why a figure is what it is). */
  notes?: string[]
}

export interface Scenario {
  /** CLI name: `npm run bench -- <name>`. */
  name: string
  title: string
  run(ctx: ScenarioContext): Promise<ScenarioResult>
}
