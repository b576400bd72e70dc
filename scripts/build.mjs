// `npm run build` (and `prepack`, so `npm pack` runs it): compiles each part's TypeScript sources,
// `<part>/src/`, into `<part>/dist/` beside them: one JavaScript module per source file at the same
// relative path, plus copies of the other files in src/ (the spawner's launcher). A compiled module
// sits as deep in the tree as its source, so every path the code resolves from import.meta.url
// (bin/edgehub.js, proxy/conf/, proxy/lua/, the launcher) holds unchanged. Tests (*.test.ts) are left
// out. Type checking is `npm run typecheck`'s job.
//
// esbuild rather than tsc: the sources import each other without file extensions, which Node's ESM
// loader does not resolve, and tsc (7.0) never adds them; esbuild resolves every relative import
// and writes the compiled file's name into the output.
import { build, stop } from 'esbuild'
import { cpSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { extname, join, posix, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PARTS = ['runtime', 'control-plane', 'proxy', 'spawners', 'auth']
/** Marks a finished build; bin/edgehub.js reads its modification time. */
const BUILD_STAMP = 'control-plane/dist/BUILT'
const SOURCE_DIRS = PARTS.map((p) => `${p}/src`)
/** control-plane/src/stack/up.ts → control-plane/dist/stack/up.js */
const compiledPath = (source) => source.replace(/^([^/]+)\/src\//, '$1/dist/').replace(/\.tsx?$/, '.js')

const isTest = (file) => /\.test\.tsx?$/.test(file)
const isTs = (file) => /\.tsx?$/.test(file) && !file.endsWith('.d.ts')

function filesUnder(dir) {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) =>
      relative(ROOT, join(e.parentPath ?? e.path, e.name))
        .split(sep)
        .join('/'),
    )
    .filter((f) => !isTest(f))
}

const sources = SOURCE_DIRS.flatMap(filesUnder)

/** The stamp is newer than tsconfig.json and every file under the source folders (bin/edgehub.js asks the same). */
function buildIsCurrent() {
  let built
  try {
    built = statSync(join(ROOT, BUILD_STAMP)).mtimeMs
  } catch {
    return false
  }
  const all = [
    ...SOURCE_DIRS.flatMap((d) =>
      readdirSync(join(ROOT, d), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath ?? e.path, e.name)),
    ),
    join(ROOT, 'tsconfig.json'),
  ]
  return all.every((f) => statSync(f).mtimeMs <= built)
}
const entryPoints = sources.filter(isTs)
const compiledSet = new Set(entryPoints.map((f) => join(ROOT, f)))

// Every relative import stays a separate module: resolve it to its source file, which must be one
// of the entry points, and import the compiled name instead.
const keepModulesApart = {
  name: 'keep-modules-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, async (args) => {
      if (args.kind === 'entry-point' || args.pluginData === 'inner') return undefined
      const found = await b.resolve(args.path, {
        resolveDir: args.resolveDir,
        kind: args.kind,
        importer: args.importer,
        pluginData: 'inner',
      })
      if (found.errors.length) return { errors: found.errors }
      if (!compiledSet.has(found.path)) {
        return {
          errors: [
            {
              text: `${relative(ROOT, args.importer)} imports ${relative(ROOT, found.path)}, which is not part of the program (${SOURCE_DIRS.join(', ')})`,
            },
          ],
        }
      }
      const from = compiledPath(relative(ROOT, args.importer).split(sep).join('/'))
      const to = compiledPath(relative(ROOT, found.path).split(sep).join('/'))
      let spec = posix.relative(posix.dirname(from), to)
      if (!spec.startsWith('.')) spec = `./${spec}`
      return { path: spec, external: true }
    })
  },
}

// `--if-stale` (npm start, npm test): nothing to do while the stamp is newer than every source, so a
// start during a test run never rewrites modules other processes are loading.
if (process.argv.includes('--if-stale') && buildIsCurrent()) process.exit(0)

for (const p of PARTS) rmSync(join(ROOT, p, 'dist'), { recursive: true, force: true })
await build({
  absWorkingDir: ROOT,
  entryPoints: entryPoints.map((f) => ({ in: f, out: compiledPath(f).replace(/\.js$/, '') })),
  outdir: ROOT,
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  tsconfig: join(ROOT, 'tsconfig.json'),
  plugins: [keepModulesApart],
  logLevel: 'warning',
})
await stop()
for (const f of sources.filter((f) => !isTs(f) && extname(f) !== '.ts'))
  cpSync(join(ROOT, f), join(ROOT, compiledPath(f)))
// Written last: in a checkout, bin/edgehub.js runs this build only while the stamp is newer than
// every source file (see there); a build under way (dist/ removed above) has none yet.
writeFileSync(join(ROOT, BUILD_STAMP), `${new Date().toISOString()}\n`)
console.log(`edgehub: compiled ${entryPoints.length} modules into ${PARTS.map((p) => `${p}/dist/`).join(', ')}`)
