// A Dockerfile read as docker reads it, for static checks (no image can be built here: no registry
// to pull the base images from). Instructions with their continuation lines joined, comments
// dropped, grouped into stages; ARG defaults substituted into FROM lines.
import { readFileSync } from 'node:fs'

export interface Instruction {
  op: string
  args: string
  line: number
}

export interface Stage {
  image: string
  name?: string
  instructions: Instruction[]
}

export function readDockerfile(path: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = readFileSync(path, 'utf8').split('\n')
  const instructions: Instruction[] = []
  for (let i = 0; i < lines.length; i++) {
    const start = i
    let text = lines[i] ?? ''
    if (/^\s*(#|$)/.test(text)) continue
    while (text.endsWith('\\') && i + 1 < lines.length) {
      i++
      const next = lines[i] ?? ''
      if (/^\s*#/.test(next)) continue
      text = `${text.slice(0, -1)} ${next.trim()}`
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(text)
    if (!m) throw new Error(`${path}:${start + 1}: not an instruction: ${text}`)
    instructions.push({ op: (m[1] as string).toUpperCase(), args: (m[2] as string).trim(), line: start + 1 })
  }
  const args: Record<string, string> = {}
  const stages: Stage[] = []
  for (const ins of instructions) {
    if (ins.op === 'ARG' && stages.length === 0) {
      const [k, v] = ins.args.split('=')
      args[k as string] = v ?? ''
    } else if (ins.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)
      if (!m) throw new Error(`${path}:${ins.line}: FROM ${ins.args}`)
      const image = (m[1] as string).replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? '')
      stages.push({ image, name: m[2], instructions: [] })
    } else {
      const stage = stages[stages.length - 1]
      if (!stage) throw new Error(`${path}:${ins.line}: ${ins.op} before FROM`)
      stage.instructions.push(ins)
    }
  }
  return { args, stages }
}

/** A JSON-array (exec form) argument: ["node", "x"] → ['node', 'x']; undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined
  return JSON.parse(args) as string[]
}

/** The sources of a COPY (its last word is the destination); flags such as --from= apart. */
export function copyParts(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(/\s+/)
  const flags = words.filter((w) => w.startsWith('--'))
  const rest = words.filter((w) => !w.startsWith('--'))
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length)
  return { from, sources: rest.slice(0, -1), dest: rest[rest.length - 1] as string }
}
