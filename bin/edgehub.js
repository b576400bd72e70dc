#!/usr/bin/env node
// Entry point of the `edgehub` command. Which code it runs is decided by what sits beside it:
// - a checkout (control-plane/src/cli.ts is here): the TypeScript sources, through tsx, with the
//   repository's tsconfig.json named explicitly, so the JSX settings hold whatever the working
//   directory. The dist/ folders that `npm pack` leaves in a checkout are never run there.
// - an installed package (`npm pack` ships each part's compiled dist/ and no sources): that
//   JavaScript (scripts/build.mjs), with no compiler at run time.
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const sources = `${root}control-plane/src/cli.ts`
const compiled = `${root}control-plane/dist/cli.js`

let cli
if (existsSync(sources)) {
  let register
  try {
    ;({ register } = await import('tsx/esm/api'))
  } catch {
    process.stderr.write(`edgehub: ${root} is a checkout and needs its development dependencies to run the sources: run \`npm ci\` there (or install the packed program, see README)\n`)
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
