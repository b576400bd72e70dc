import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { configDocs } from './docs'

describe('docs/config.md', () => {
  it('is the current output of `edgehub config docs` (regenerate it when the schema changes)', () => {
    expect(readFileSync(new URL('../../../docs/config.md', import.meta.url), 'utf8')).toBe(configDocs())
  })
})
