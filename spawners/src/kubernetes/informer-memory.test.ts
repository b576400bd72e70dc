// The pod informer's memory per pod stays small and does not grow with the count (a generous bound;
// bench/scenarios/kube-informer.ts prints the figures).
import { expect, it } from 'vitest'
import { informerMemory } from '../../../test/support/kube-informer-memory'

it('tracks 1,000 pods in a few hundred bytes each, no more per pod than at 100', async () => {
  const [at100, at1000] = await informerMemory([100, 1000])
  console.log(`pod informer: ${at100.bytesPerPod} bytes per pod at 100 pods, ${at1000.bytesPerPod} at 1,000`)
  expect(at1000.bytesPerPod).toBeGreaterThan(0)
  expect(at1000.bytesPerPod).toBeLessThan(2048)
  expect(at1000.bytesPerPod).toBeLessThanOrEqual(Math.max(at100.bytesPerPod, 300) * 1.5)
}, 120_000)
