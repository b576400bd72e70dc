// Plain SVG charts (no dependencies): a line chart and grouped bars, for the results summary.
import type { Plot } from './types'

const W = 720
const H = 400
const M = { left: 80, right: 170, top: 40, bottom: 60 }
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf']

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** About five round tick values from 0 to at least max. */
function ticks(max: number): number[] {
  if (!(max > 0)) return [0, 1]
  const step0 = max / 5
  const mag = 10 ** Math.floor(Math.log10(step0))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0)!
  const out: number[] = []
  for (let v = 0; v < max + step * 0.999; v += step) out.push(Math.round(v * 1e6) / 1e6)
  return out
}

const fmt = (v: number) => (Math.abs(v) >= 1e6 ? `${v / 1e6}M` : Math.abs(v) >= 1e4 ? `${v / 1e3}k` : String(v))

function frame(title: string, yLabel: string, xLabel: string, yTicks: number[], y: (v: number) => number): string[] {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - M.right / 2 + M.left / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<text transform="translate(18 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 14}" text-anchor="middle">${esc(xLabel)}</text>`,
  ]
  for (const t of yTicks) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/>`)
    out.push(`<text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end">${fmt(t)}</text>`)
  }
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>`)
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`)
  return out
}

function legend(names: string[]): string[] {
  return names.flatMap((n, i) => [
    `<rect x="${W - M.right + 14}" y="${M.top + i * 20}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`,
    `<text x="${W - M.right + 32}" y="${M.top + i * 20 + 10}">${esc(n)}</text>`,
  ])
}

export function renderSvg(plot: Plot): string {
  const plotW = W - M.left - M.right
  const plotH = H - M.top - M.bottom
  if (plot.kind === 'line') {
    const xs = plot.series.flatMap((s) => s.points.map((p) => p[0]))
    const ys = plot.series.flatMap((s) => s.points.map((p) => p[1]))
    const yTicks = ticks(Math.max(...ys))
    const yMax = yTicks[yTicks.length - 1]
    const fx = plot.logX ? Math.log10 : (v: number) => v
    const [x0, x1] = [Math.min(...xs.map(fx)), Math.max(...xs.map(fx))]
    const x = (v: number) => M.left + (x1 === x0 ? plotW / 2 : ((fx(v) - x0) / (x1 - x0)) * plotW)
    const y = (v: number) => M.top + plotH - (v / yMax) * plotH
    const out = frame(plot.title, plot.yLabel, plot.xLabel, yTicks, y)
    for (const v of [...new Set(xs)].sort((a, b) => a - b)) {
      out.push(`<text x="${x(v)}" y="${H - M.bottom + 18}" text-anchor="middle">${fmt(v)}</text>`)
    }
    plot.series.forEach((s, i) => {
      const c = COLORS[i % COLORS.length]
      out.push(
        `<polyline fill="none" stroke="${c}" stroke-width="2" points="${s.points.map((p) => `${x(p[0])},${y(p[1])}`).join(' ')}"/>`,
      )
      for (const p of s.points) out.push(`<circle cx="${x(p[0])}" cy="${y(p[1])}" r="3.5" fill="${c}"/>`)
    })
    out.push(...legend(plot.series.map((s) => s.name)), '</svg>')
    return `${out.join('\n')}\n`
  }
  const values = plot.series.flatMap((s) => s.values)
  const yTicks = ticks(Math.max(...values.filter(Number.isFinite)))
  const yMax = yTicks[yTicks.length - 1]
  const y = (v: number) => M.top + plotH - (v / yMax) * plotH
  const out = frame(plot.title, plot.yLabel, '', yTicks, y)
  const groupW = plotW / plot.categories.length
  const barW = (groupW * 0.8) / plot.series.length
  plot.categories.forEach((cat, ci) => {
    const gx = M.left + ci * groupW + groupW * 0.1
    out.push(`<text x="${gx + groupW * 0.4}" y="${H - M.bottom + 18}" text-anchor="middle">${esc(cat)}</text>`)
    plot.series.forEach((s, si) => {
      const v = s.values[ci]
      if (!Number.isFinite(v)) return
      out.push(
        `<rect x="${gx + si * barW}" y="${y(v)}" width="${barW - 2}" height="${y(0) - y(v)}" fill="${COLORS[si % COLORS.length]}"/>`,
      )
    })
  })
  out.push(...legend(plot.series.map((s) => s.name)), '</svg>')
  return `${out.join('\n')}\n`
}
