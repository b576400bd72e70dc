// The last lines a container wrote (stdout and stderr), for failure messages.
import type Docker from 'dockerode'

/**
 * Splits Docker's multiplexed log stream (8-byte frame headers: stream, 0, 0, 0, big-endian length)
 * into its text; a stream without frames (a container with a TTY) is its own text.
 */
export function demuxLogs(buf: Buffer): string {
  const parts: Buffer[] = []
  let i = 0
  while (i + 8 <= buf.length && buf[i]! <= 2 && buf[i + 1] === 0 && buf[i + 2] === 0 && buf[i + 3] === 0) {
    const len = buf.readUInt32BE(i + 4)
    parts.push(buf.subarray(i + 8, i + 8 + len))
    i += 8 + len
  }
  return i === 0 ? buf.toString('utf8') : Buffer.concat(parts).toString('utf8')
}

/** The container's last `n` non-empty log lines, each cut to 300 characters; [] when it has none or is gone. */
export async function lastLogLines(container: Docker.Container, n = 10): Promise<string[]> {
  try {
    const raw = (await container.logs({ stdout: true, stderr: true, tail: n * 4, follow: false })) as unknown as Buffer
    return demuxLogs(Buffer.from(raw))
      .split(/\r?\n/)
      .map((l) => l.trimEnd())
      .filter((l) => l.trim())
      .slice(-n)
      .map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l))
  } catch {
    return []
  }
}
