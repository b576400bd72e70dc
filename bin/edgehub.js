#!/usr/bin/env node
// Entry point of the `edgehub` command. Which code it runs is decided by what sits beside it:
// - an installed package (`npm pack` ships each part's compiled dist/ and no sources): that
//   JavaScript (scripts/build.mjs), with no compiler at run time.
// - a checkout (control-plane/src/cli.ts is here): the compiled dist/ while its build stamp is newer
//   than every source file (`npm start` and `npm test` build first, in under a second: a hub then
//   starts in about half the time, which is what a restart of a killed hub waits for), otherwise the
//   sources through tsx, with the repository's tsconfig.json named explicitly so the JSX settings
//   hold whatever the working directory. A source edited after the build is therefore never missed.
//   EDGEHUB_SOURCES=1 runs the sources in any case.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const sources = `${root}control-plane/src/cli.ts`
const compiled = `${root}control-plane/dist/cli.js`
const stamp = `${root}control-plane/dist/BUILT`
const SOURCE_DIRS = ['runtime/src', 'control-plane/src', 'proxy/src', 'spawners/src', 'auth/src']

/** Whether the checkout's build is newer than every file it was built from. */
function buildIsCurrent() {
  let built
  try {
    built = statSync(stamp).mtimeMs
  } catch {
    return false
  }
  if (statSync(`${root}tsconfig.json`).mtimeMs > built) return false
  for (const dir of SOURCE_DIRS) {
    for (const e of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (e.isFile() && statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs > built) return false
    }
  }
  return true
}

let cli
if (existsSync(sources) && (process.env.EDGEHUB_SOURCES === '1' || !buildIsCurrent())) {
  let register
  try {
    ;({ register } = await import('tsx/esm/api'))
  } catch {
    process.stderr.write(
      `edgehub: ${root} is a checkout and needs its development dependencies to run the sources: run \`npm ci\` there (or install the packed program, see README)\n`,
    )
    process.exit(1)
  }
  register({ tsconfig: `${root}tsconfig.json` })
  cli = await import(pathToFileURL(sources).href)
} else if (existsSync(compiled)) {
  cli = await import(pathToFileURL(compiled).href)
} else {
  process.stderr.write(`edgehub: neither the sources nor the compiled program (control-plane/dist/) are in ${root}\n`)
  process.exit(1)
}
await cli.main(process.argv.slice(2))
