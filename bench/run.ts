// `npm run bench [-- <scenario>…] [--quick] [--out DIR]`: runs the benchmark scenarios one after
// another and writes DIR/<date>.json (or <date>-<names>.json for a selection), a markdown summary
// beside it and SVG plots. Every process a scenario starts is stopped by pid, also on Ctrl-C.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { Cleanups } from './lib/cleanup'
import { machineInfo } from './lib/machine'
import { writeReport, type ScenarioRun } from './lib/report'
import { VERDICT_LABEL } from './lib/verdict'
import { SCENARIOS } from './scenarios/index'

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results' },
    list: { type: 'boolean', default: false },
  },
})

if (opts.list) {
  for (const s of SCENARIOS) console.log(`${s.name.padEnd(12)} ${s.title}`)
  process.exit(0)
}
const unknown = positionals.filter((p) => !SCENARIOS.some((s) => s.name === p))
if (unknown.length) {
  console.error(`bench: unknown scenario ${unknown.join(', ')}; one of: ${SCENARIOS.map((s) => s.name).join(', ')}`)
  process.exit(2)
}
const selected = positionals.length ? SCENARIOS.filter((s) => positionals.includes(s.name)) : SCENARIOS

const cleanups = new Cleanups()
let interrupted = false
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    interrupted = true
    console.error(`\nbench: ${sig}, stopping everything started`)
    void cleanups.runAll().then(() => process.exit(130))
  })
}

const started = new Date()
const t0 = performance.now()
const clock = () => {
  const s = Math.round((performance.now() - t0) / 1000)
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
}

const runs: ScenarioRun[] = []
let failed = 0
for (const [i, scenario] of selected.entries()) {
  if (interrupted) break
  const tag = () => `[${clock()} ${i + 1}/${selected.length} ${scenario.name}]`
  console.log(`${tag()} ${scenario.title}`)
  const dir = mkdtempSync(join(tmpdir(), `edgehub-bench-${scenario.name}-`))
  const scoped = new Cleanups()
  cleanups.push(() => scoped.runAll())
  const s0 = performance.now()
  try {
    const result = await scenario.run({
      dir,
      quick: opts.quick,
      cleanups: scoped,
      progress: (m) => console.log(`${tag()} ${m}`),
    })
    const seconds = Math.round((performance.now() - s0) / 100) / 10
    runs.push({ name: scenario.name, title: scenario.title, seconds, result })
    for (const t of result.targets)
      console.log(
        `${tag()}   ${VERDICT_LABEL[t.verdict].terminal} ${t.name}: ${t.value}${t.goal === 'reported' ? '' : ` (target ${t.goal})`}`,
      )
  } catch (err) {
    failed++
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err)
    console.error(`${tag()} failed: ${message}`)
    runs.push({
      name: scenario.name,
      title: scenario.title,
      seconds: Math.round((performance.now() - s0) / 100) / 10,
      error: message.split('\n')[0],
    })
  } finally {
    await scoped.runAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (!interrupted) {
  mkdirSync(opts.out, { recursive: true })
  const stem =
    started.toISOString().slice(0, 10) +
    (positionals.length ? `-${selected.map((s) => s.name).join('-')}` : '') +
    (opts.quick ? '-quick' : '')
  const files = writeReport({
    dir: opts.out,
    stem,
    started,
    seconds: Math.round((performance.now() - t0) / 1000),
    machine: machineInfo(),
    quick: opts.quick,
    runs,
  })
  console.log(`[${clock()}] wrote ${files.join(', ')}`)
}
await cleanups.runAll()
process.exit(failed ? 1 : 0)
