// Writes a run's results: <stem>.json (everything), <stem>.md (tables, targets, plots) and one
// <stem>-<plot>.svg per plot.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { MachineInfo } from './machine'
import { renderSvg } from './svg'
import type { ScenarioResult, Table } from './types'
import { VERDICT_LABEL } from './verdict'

export interface ScenarioRun {
  name: string
  title: string
  seconds: number
  result?: ScenarioResult
  error?: string
}

export interface Report {
  dir: string
  stem: string
  started: Date
  seconds: number
  machine: MachineInfo
  quick: boolean
  runs: ScenarioRun[]
}

const cell = (v: string | number) => String(v).replace(/\|/g, '\\|')

function markdownTable(t: Table): string[] {
  const numeric = t.columns.map((_, i) => t.rows.every((r) => typeof r[i] === 'number'))
  return [
    `| ${t.columns.map(cell).join(' | ')} |`,
    `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ]
}

/** Returns the files written. */
export function writeReport(r: Report): string[] {
  const files: string[] = []
  const m = r.machine
  const md: string[] = [
    `# edgehub benchmarks, ${r.started.toISOString().slice(0, 16).replace('T', ' ')} UTC${r.quick ? ' (quick: a smoke run, not a measurement)' : ''}`,
    '',
    `Commit \`${m.commit}\`${m.dirty ? ' (with uncommitted changes)' : ''}; ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}; ` +
      `Node ${m.node}, nginx ${m.nginx}, Redis ${m.redis}, wrk ${m.wrk}. Whole run: ${Math.round(r.seconds / 6) / 10} min.`,
    '',
  ]
  const targets = r.runs.flatMap((run) =>
    (run.result?.targets ?? []).map((t) => [run.name, t.name, t.goal, t.value, VERDICT_LABEL[t.verdict].markdown]),
  )
  if (targets.length) {
    md.push(
      '## Targets',
      '',
      ...markdownTable({ title: '', columns: ['scenario', 'figure', 'target', 'measured', 'verdict'], rows: targets }),
      '',
      'A ratio shows its value in each interleaved round as "runs min–max"; when that spread is wider than the ratio\'s distance to the goal the verdict is *inconclusive*. "reported" figures have no goal they could miss.',
      '',
    )
  }
  for (const run of r.runs) {
    md.push(`## ${run.title} (\`${run.name}\`, ${run.seconds} s)`, '')
    if (run.error) {
      md.push(`Failed: \`${run.error}\``, '')
      continue
    }
    const res = run.result!
    for (const t of res.tables) md.push(`**${t.title}**`, '', ...markdownTable(t), '')
    for (const p of res.plots ?? []) {
      const file = `${r.stem}-${p.name}.svg`
      writeFileSync(join(r.dir, file), renderSvg(p))
      files.push(join(r.dir, file))
      md.push(`![${p.title}](${file})`, '')
    }
    for (const n of res.notes ?? []) md.push(`- ${n}`)
    if (res.notes?.length) md.push('')
  }
  const json = join(r.dir, `${r.stem}.json`)
  writeFileSync(
    json,
    `${JSON.stringify(
      { started: r.started.toISOString(), seconds: r.seconds, quick: r.quick, machine: m, scenarios: r.runs },
      null,
      2,
    )}\n`,
  )
  const mdFile = join(r.dir, `${r.stem}.md`)
  writeFileSync(mdFile, md.join('\n'))
  return [json, mdFile, ...files]
}
