#!/usr/bin/env node
// Entry point of the `edgehub` command: runs the TypeScript sources through tsx.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../control-plane/src/cli.ts')
await main(process.argv.slice(2))
