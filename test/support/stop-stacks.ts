// A vitest setup file (vitest.config.ts): when a test file ends, every stack the harness started in
// it and nobody stopped (a start that outlived its hook's timeout) is stopped, after the file's own
// afterAll hooks.
import { afterAll } from 'vitest'
import { stopLiveStacks } from './live-stacks'

afterAll(async () => {
  await stopLiveStacks()
}, 120_000)
