// The kubernetes spawner's shared pod informer: heap bytes per pod tracked, at 100 and 1,000 pods (on
// the FAKE API server, test/support/fake-kube-api.ts). The informer keeps a small record per pod, so
// the figure should stay about the same as the count grows. A standalone script:
//   npx tsx bench/scenarios/kube-informer.ts [COUNT ...]
import { informerMemory } from '../../test/support/kube-informer-memory'

const counts = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0 && n <= 100_000)
const results = await informerMemory(counts.length ? counts : [100, 1000])
for (const r of results)
  console.log(
    `${String(r.pods).padStart(6)} pods: ${String(r.bytes).padStart(10)} bytes, ${r.bytesPerPod} bytes per pod`,
  )
process.exit(0)
