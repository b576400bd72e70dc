// The k6 scripts (bench/k6) stay in step with the local harness: one script per scenario, every
// parameter from bench/params.json (which the harness reads too), no path template of their own.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')
const K6 = join(ROOT, 'bench/k6')
const SCENARIOS = ['http', 'routes', 'websocket', 'churn', 'login', 'spawn', 'api', 'soak'] as const
const params = JSON.parse(readFileSync(join(ROOT, 'bench/params.json'), 'utf8')) as Record<string, unknown>

/** The params.json keys (under the scenario's section) holding the path templates each script requests. */
const PATH_KEYS: Record<(typeof SCENARIOS)[number], string[]> = {
  http: ['path'],
  routes: ['path'],
  websocket: ['path'],
  churn: ['path'],
  login: [],
  spawn: ['k6.path'],
  api: [],
  soak: ['path', 'wsPath'],
}

const read = (file: string) => readFileSync(file, 'utf8')
/** The code without comments (the header comments quote paths as examples). */
const code = (src: string) => src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')

function lookup(path: string): unknown {
  let v: unknown = params
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined
  return v
}

describe('bench/k6', () => {
  it('has one script per benchmark scenario, each with its header comment', () => {
    for (const name of SCENARIOS) {
      const file = join(K6, `${name}.ts`)
      expect(existsSync(file), `bench/k6/${name}.ts`).toBe(true)
      const src = read(file)
      expect(src.startsWith('/*'), `${name}.ts starts with its comment block`).toBe(true)
      const header = src.slice(0, src.indexOf('*/'))
      expect(header).toContain('k6 run ')
      expect(header).toContain(`bench/scenarios/${name}.ts`)
      expect(header).toContain('BASE_URL')
    }
  })

  it('reads every parameter from bench/params.json', () => {
    for (const name of SCENARIOS) {
      const src = code(read(join(K6, `${name}.ts`)))
      expect(src, `${name}.ts opens params.json`).toContain("parseParams(open('../params.json'))")
      expect(src, `${name}.ts uses params.${name}`).toMatch(new RegExp(`params\\.${name}\\.\\w+`))
    }
  })

  it('takes its path templates from params.json and hard-codes none', () => {
    for (const name of SCENARIOS) {
      const src = code(read(join(K6, `${name}.ts`)))
      for (const key of PATH_KEYS[name]) {
        const value = lookup(`${name}.${key}`)
        expect(typeof value === 'string' && value.includes('{user}'), `params.${name}.${key} is a path template`).toBe(true)
        expect(src, `${name}.ts uses params.${name}.${key}`).toContain(`params.${name}.${key}`)
      }
    }
    const files = [...SCENARIOS.map((n) => join(K6, `${n}.ts`)), ...readdirSync(join(K6, 'lib')).filter((f) => f.endsWith('.ts')).map((f) => join(K6, 'lib', f))]
    for (const file of files) {
      expect(code(read(file)), `${file} spells out no /user/{user}… template`).not.toMatch(/['"`]\/[^'"`\n]*\{user\}/)
    }
  })

  it('names only params.json keys that exist', () => {
    for (const name of SCENARIOS) {
      const src = code(read(join(K6, `${name}.ts`)))
      for (const [, path] of src.matchAll(/(?<![\w/.])params\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)/g)) {
        // walk the path while it names objects; what follows a string, number or array is a method
        let v: unknown = params
        for (const k of path.split('.')) {
          if (!v || typeof v !== 'object' || Array.isArray(v)) break
          expect(Object.hasOwn(v, k), `${name}.ts: params.${path} (no "${k}" in bench/params.json)`).toBe(true)
          v = (v as Record<string, unknown>)[k]
        }
      }
    }
  })

  it('follows no redirect and tolerates no failed request', () => {
    for (const name of SCENARIOS) {
      const src = code(read(join(K6, `${name}.ts`)))
      const options = src.slice(src.indexOf('export const options'))
      expect(options, `${name}.ts sets maxRedirects: 0 in its options`).toMatch(/^export const options: Options = \{[^]*?\n {2}maxRedirects: 0,\n/)
      expect(src, `${name}.ts: no failure rate tolerated`).not.toMatch(/rate\s*<\s*0\.\d|rate\s*>\s*0\.9/)
    }
    const load = code(read(join(K6, 'lib/load.ts')))
    expect(load).toContain("'http_req_failed{kind:load}': ['rate==0']")
    expect(load).toContain('redirects: 0')
  })
})
