// Ports for servers started by the local-process spawner. They come from a range below the kernel's
// ephemeral range (32768-60999 on Linux by default), which outgoing connections draw their local
// ports from: a port the OS hands out for `listen(0)` can be taken by the proxy's or a client's next
// connection before the server binds it, and under a spawn storm of a thousand servers that happens.
import { canBind } from '../../../runtime/src/ports'

export type PortRange = readonly [number, number]

/** Default for spawner.local-process.portRange. */
export const DEFAULT_PORT_RANGE: PortRange = [20000, 32767]

/**
 * A port in range that is not in `reserved` (handed to a server that may not have bound it yet) and
 * can be bound on host now; added to `reserved`. Tries random ports first, then walks the range.
 */
export async function pickPort(host: string, range: PortRange, reserved: Set<number>): Promise<number> {
  const [lo, hi] = range
  const size = hi - lo + 1
  const tryPort = async (port: number) => !reserved.has(port) && (await canBind(host, port))
  for (let i = 0; i < 20; i++) {
    const port = lo + Math.floor(Math.random() * size)
    if (await tryPort(port)) return (reserved.add(port), port)
  }
  const start = Math.floor(Math.random() * size)
  for (let i = 0; i < size; i++) {
    const port = lo + ((start + i) % size)
    if (await tryPort(port)) return (reserved.add(port), port)
  }
  throw new Error(`no free port on ${host} in spawner.local-process.portRange ${lo}-${hi}`)
}
