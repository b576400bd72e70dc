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

/** An RFC 3339 time with its fraction padded to nanoseconds: such strings sort as the times do. */
const sortableTime = (t: string) =>
  t.replace(/(?:\.(\d+))?Z$/, (_, f: string | undefined) => `.${(f ?? '').padEnd(9, '0')}Z`)

/**
 * The container's last `n` non-empty log lines in the order they were written (the engine gives
 * stdout's and stderr's apart: they are merged by their timestamps), each cut to 300 characters;
 * [] when it has none or is gone.
 */
export async function lastLogLines(container: Docker.Container, n = 10): Promise<string[]> {
  let raw: Buffer
  try {
    raw = Buffer.from(
      (await container.logs({ stdout: true, stderr: true, timestamps: true, tail: n * 4, follow: false })) as Buffer,
    )
  } catch {
    return []
  }
  return demuxLogs(raw)
    .split(/\r?\n/)
    .map((l) => {
      const space = l.indexOf(' ')
      return { at: sortableTime(l.slice(0, space)), text: l.slice(space + 1).trimEnd() }
    })
    .filter((l) => l.text.trim())
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
    .slice(-n)
    .map(({ text }) => (text.length > 300 ? `${text.slice(0, 300)}…` : text))
}
