import { describe, expect, it } from 'vitest'
import { Busy, concurrencyLimit } from './concurrency'

describe('concurrencyLimit', () => {
  it('runs at most N at once, queues M more, and refuses the rest as busy', async () => {
    const run = concurrencyLimit(2, 1)
    let now = 0
    let most = 0
    const gates: Array<() => void> = []
    const task = () =>
      run(async () => {
        most = Math.max(most, ++now)
        await new Promise<void>((r) => gates.push(r))
        now--
        return 'done'
      })
    const a = task()
    const b = task()
    const c = task() // queued
    await expect(task()).rejects.toBeInstanceOf(Busy)
    while (gates.length < 2) await Promise.resolve()
    gates.shift()!()
    while (gates.length < 2) await Promise.resolve() // the queued one started
    for (const g of gates.splice(0)) g()
    expect(await Promise.all([a, b, c])).toEqual(['done', 'done', 'done'])
    expect(most).toBe(2)
  })
})
