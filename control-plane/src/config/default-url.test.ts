// spawner.defaultUrl as the hub reads it at its start: the spawner's check (spawners/src/default-url.ts,
// tested beside it) refuses a bad one with one line naming the key.
import { describe, expect, it } from 'vitest'
import { loadConfig } from './load'

describe('spawner.defaultUrl in the config', () => {
  it('a bad one stops the start with a line naming spawner.defaultUrl', () => {
    expect(loadConfig({ env: { EDGEHUB_SPAWNER_DEFAULT_URL: '/lab' } }).config.spawner.defaultUrl).toBe('/lab')
    expect(loadConfig({ env: {} }).config.spawner.defaultUrl).toBeUndefined()
    let message = ''
    try {
      loadConfig({ env: { EDGEHUB_SPAWNER_DEFAULT_URL: '//evil.example/' } })
    } catch (err) {
      message = (err as Error).message
    }
    expect(message.split('\n').filter((l) => l.includes('spawner.defaultUrl'))).toHaveLength(1)
  })
})
