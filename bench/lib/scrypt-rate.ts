// Run by the login scenario in a fresh Node process: `count` password verifications at scrypt cost N,
// all at once (as a login storm asks for them), through the hub's own hashing code. Sends back
// verifications/s and CPU ms per verification (the process's CPU time includes libuv's thread pool).
import { hashPassword, verifyPassword } from '../../auth/src/native/password'

const [N, count] = process.argv.slice(2).map(Number)
const stored = await hashPassword('bench-password', N)
await verifyPassword('bench-password', stored) // warm-up
const cpu0 = process.cpuUsage()
const t0 = performance.now()
const ok = await Promise.all(Array.from({ length: count }, () => verifyPassword('bench-password', stored)))
const seconds = (performance.now() - t0) / 1000
const cpu = process.cpuUsage(cpu0)
if (!ok.every(Boolean)) throw new Error('a verification failed')
process.send!({ perSec: count / seconds, cpuMsEach: (cpu.user + cpu.system) / 1000 / count }, () => process.exit(0))
