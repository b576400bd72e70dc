// Percentiles and rounding for reported figures.

/** Nearest-rank percentile of unsorted samples (p in 0..100); NaN for none. */
export function percentile(samples: number[], p: number): number {
  if (!samples.length) return NaN
  const s = Float64Array.from(samples).sort()
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

export function summary(samples: number[]) {
  const s = Float64Array.from(samples).sort()
  const at = (p: number) =>
    s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] : NaN
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN
  return {
    count: s.length,
    p50: round(at(50)),
    p90: round(at(90)),
    p99: round(at(99)),
    p999: round(at(99.9)),
    max: round(at(100)),
    mean: round(mean),
  }
}

/** Three significant decimals for ms figures; whole numbers stay whole. */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** a / b rounded to 3 decimals. */
export function ratio(a: number, b: number): number {
  return round(a / b, 3)
}
