// The import rules between the project's parts, checked on every relative import of every
// TypeScript file:
// - runtime/ (what every part shares: processes, waiting, ports, errors, logging) imports no other part;
// - auth/ and spawners/ never import control-plane/;
// - control-plane/ reaches a plug-in folder only through its entry module (spawners/src/index.ts,
//   auth/src/index.ts: the registry and the contract);
// - no cycle between the product's top-level folders (control-plane, auth, spawners, proxy, runtime),
//   counting their non-test files;
// - end-to-end tests, the fault suite, the proxy's integration tests, their support modules and the
//   benchmarks import no control-plane/ file but the protocol (control-plane/src/protocol.ts: the key
//   schema, token digests, the session cookie, the proxy tables, the Redis log-ins, which the proxy's
//   Lua implements too): they drive a stack through its CLI, HTTP and Redis (test/support/harness.ts
//   starts it);
// - the protocol module and what it imports reach no other control-plane file (type-only imports aside);
// - end-to-end tests and the fault suite do not build the hub in their own process either
//   (test/support/hub-state.ts, left for the benchmarks' bulk seeding).
// Imports that break a rule today are listed in import-debt.json: a new one fails this test, and so
// does a listed one that is gone (take it off the list: the list only shrinks).
// UPDATE_IMPORT_DEBT=1 rewrites the list from the tree (for a commit that removes entries).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../..')
const DEBT_FILE = join(ROOT, 'test/unit/import-debt.json')
const SCANNED = ['control-plane', 'auth', 'spawners', 'proxy', 'runtime', 'bench', 'test']
const PRODUCT = ['control-plane', 'auth', 'spawners', 'proxy', 'runtime']
const PLUGIN_ENTRIES = ['spawners/src/index.ts', 'auth/src/index.ts']
const DRIVERS = ['test/e2e/', 'test/fault/', 'test/proxy/', 'test/support/', 'bench/']
/** The hub's classes in the caller's process: for benchmarks' seeding, never an end-to-end test. */
const HUB_STATE = 'test/support/hub-state.ts'
/** The one control-plane module drivers may import. */
const PROTOCOL = 'control-plane/src/protocol.ts'
/** What the protocol module is made of: the modules it re-exports, which import nothing else of control-plane/. */
const PROTOCOL_MODULES = [
  PROTOCOL,
  'control-plane/src/state/keys.ts',
  'control-plane/src/state/token-digest.ts',
  'control-plane/src/sessions/cookie.ts',
  'control-plane/src/sessions/handoff-token.ts',
  'control-plane/src/state/proxy-tables.ts',
  'control-plane/src/stack/redis-acl.ts',
]

type Import = { from: string; to: string }
type Debt = Record<string, string[]>

function* sourceFiles(dir: string): Generator<string> {
  let entries: string[]
  try {
    entries = readdirSync(join(ROOT, dir))
  } catch {
    return // a part that does not exist (yet)
  }
  for (const e of entries) {
    if (e === 'node_modules' || e === 'dist' || e.startsWith('.')) continue
    const path = `${dir}/${e}`
    if (statSync(join(ROOT, path)).isDirectory()) yield* sourceFiles(path)
    else if (/\.(ts|tsx)$/.test(e) && !e.endsWith('.d.ts')) yield path
  }
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|^import\s+['"](\.{1,2}\/[^'"]+)['"]/gm

/** Every relative import, resolved to a repository path (with its extension when the file has one). */
function relativeImports(): Import[] {
  const out: Import[] = []
  for (const part of SCANNED) {
    for (const from of sourceFiles(part)) {
      const src = readFileSync(join(ROOT, from), 'utf8')
      for (const m of src.matchAll(IMPORT)) {
        const spec = m[1] ?? m[2] ?? m[3]
        out.push({ from, to: resolveImport(from, spec) })
      }
    }
  }
  return out
}

const resolveImport = (from: string, spec: string) => {
  const target = relative(ROOT, resolve(ROOT, dirname(from), spec))
  return ['', '.ts', '.tsx', '/index.ts'].map((ext) => target + ext).find((p) => exists(p)) ?? target
}

/** Every file a module loads at run time, itself included: relative imports followed, `import type` skipped. */
function runtimeClosure(start: string): string[] {
  const seen = new Set<string>([start])
  const VALUE_IMPORT = /(?:^|[\s;])(?:import|export)\s+(?!type\s)[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/gm
  for (const file of seen) {
    for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(VALUE_IMPORT)) seen.add(resolveImport(file, m[1]))
  }
  return [...seen].sort()
}

function exists(path: string): boolean {
  try {
    return statSync(join(ROOT, path)).isFile()
  } catch {
    return false
  }
}

const top = (path: string) => path.split('/')[0]
const isTest = (path: string) => /\.test\.tsx?$/.test(path) || path.startsWith('test/')

/** The imports that break each rule, as "from -> to". */
function violations(imports: Import[]): Debt {
  const edge = ({ from, to }: Import) => `${from} -> ${to}`
  const runtimeImportsPart = imports.filter((i) => top(i.from) === 'runtime' && top(i.to) !== 'runtime')
  const pluginsImportHub = imports.filter(
    (i) => ['auth', 'spawners'].includes(top(i.from)) && top(i.to) === 'control-plane',
  )
  const hubBypassesRegistry = imports.filter(
    (i) =>
      top(i.from) === 'control-plane' &&
      !isTest(i.from) &&
      ['auth', 'spawners'].includes(top(i.to)) &&
      !PLUGIN_ENTRIES.includes(i.to),
  )
  const driversImportHub = imports.filter(
    (i) => DRIVERS.some((d) => i.from.startsWith(d)) && top(i.to) === 'control-plane' && i.to !== PROTOCOL,
  )
  const e2eBuildsHub = imports.filter(
    (i) => ['test/e2e/', 'test/fault/', 'test/proxy/'].some((d) => i.from.startsWith(d)) && i.to === HUB_STATE,
  )
  // a cycle between folders: an edge a -> b whose target reaches back to a
  const product = imports.filter(
    (i) => PRODUCT.includes(top(i.from)) && PRODUCT.includes(top(i.to)) && top(i.from) !== top(i.to) && !isTest(i.from),
  )
  const next = new Map<string, Set<string>>()
  for (const i of product) next.set(top(i.from), (next.get(top(i.from)) ?? new Set()).add(top(i.to)))
  const reaches = (a: string, b: string, seen = new Set<string>()): boolean =>
    a === b || [...(next.get(a) ?? [])].some((n) => !seen.has(n) && (seen.add(n), reaches(n, b, seen)))
  const cycles = product.filter((i) => reaches(top(i.to), top(i.from)))
  const sorted = (list: Import[]) => [...new Set(list.map(edge))].sort()
  return {
    'runtime imports another part': sorted(runtimeImportsPart),
    'auth and spawners import control-plane': sorted(pluginsImportHub),
    'control-plane imports a plug-in past its entry module': sorted(hubBypassesRegistry),
    'a cycle between top-level folders': sorted(cycles),
    'tests and benchmarks import control-plane': sorted(driversImportHub),
    'end-to-end tests build the hub in their process': sorted(e2eBuildsHub),
  }
}

describe('import rules', () => {
  const found = violations(relativeImports())

  it('finds the imports it checks (the scan itself works)', () => {
    const imports = relativeImports()
    expect(imports.length).toBeGreaterThan(500)
    expect(imports).toContainEqual({ from: 'control-plane/src/main.ts', to: 'control-plane/src/deps.ts' })
  })

  it('catches a rule broken on purpose', () => {
    const made = violations([
      { from: 'auth/src/x.ts', to: 'control-plane/src/errors.ts' },
      { from: 'control-plane/src/x.ts', to: 'spawners/src/local-process/index.ts' },
      { from: 'control-plane/src/y.ts', to: 'proxy/src/a.ts' },
      { from: 'proxy/src/a.ts', to: 'control-plane/src/z.ts' },
      { from: 'bench/x.ts', to: 'control-plane/src/util/wait.ts' },
      { from: 'runtime/src/x.ts', to: 'spawners/src/local-process/ports.ts' },
      { from: 'test/e2e/x.test.ts', to: PROTOCOL },
      { from: 'test/proxy/x.test.ts', to: 'control-plane/src/state/keys.ts' },
      { from: 'test/e2e/y.test.ts', to: HUB_STATE },
      { from: 'bench/lib/y.ts', to: HUB_STATE },
    ])
    expect(made['runtime imports another part']).toEqual(['runtime/src/x.ts -> spawners/src/local-process/ports.ts'])
    expect(made['auth and spawners import control-plane']).toEqual(['auth/src/x.ts -> control-plane/src/errors.ts'])
    expect(made['control-plane imports a plug-in past its entry module']).toEqual([
      'control-plane/src/x.ts -> spawners/src/local-process/index.ts',
    ])
    expect(made['a cycle between top-level folders']).toEqual([
      'control-plane/src/y.ts -> proxy/src/a.ts',
      'proxy/src/a.ts -> control-plane/src/z.ts',
    ])
    expect(made['tests and benchmarks import control-plane']).toEqual([
      'bench/x.ts -> control-plane/src/util/wait.ts',
      'test/proxy/x.test.ts -> control-plane/src/state/keys.ts',
    ])
    expect(made['end-to-end tests build the hub in their process']).toEqual([`test/e2e/y.test.ts -> ${HUB_STATE}`])
  })

  it('the protocol module loads no control-plane file but its own modules', () => {
    const loaded = runtimeClosure(PROTOCOL)
    expect(loaded).toContain('control-plane/src/state/keys.ts') // the walk follows re-exports
    expect(loaded.filter((f) => !f.startsWith('runtime/') && !PROTOCOL_MODULES.includes(f))).toEqual([])
  })

  it('adds no import that breaks a rule, and the list of old ones only shrinks', () => {
    if (process.env.UPDATE_IMPORT_DEBT) writeFileSync(DEBT_FILE, `${JSON.stringify(found, null, 2)}\n`)
    const debt: Debt = JSON.parse(readFileSync(DEBT_FILE, 'utf8'))
    for (const [rule, list] of Object.entries(found)) {
      const known = new Set(debt[rule] ?? [])
      expect(
        list.filter((v) => !known.has(v)),
        `new imports breaking "${rule}"`,
      ).toEqual([])
      expect(
        [...known].filter((v) => !list.includes(v)),
        `gone from the tree: take them off test/unit/import-debt.json ("${rule}")`,
      ).toEqual([])
    }
  })
})
