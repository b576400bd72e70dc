// The last lines a container wrote (stdout and stderr), for failure messages.
import type Docker from 'dockerode'

export interface LogFrame {
  stream: 'stdout' | 'stderr'
  text: string
}

/**
 * Splits Docker's multiplexed log stream (8-byte frame headers: stream, 0, 0, 0, big-endian length)
 * into its frames; a stream without frames (a container with a TTY) is one stdout frame.
 */
export function demuxLogs(buf: Buffer): LogFrame[] {
  const frames: LogFrame[] = []
  let i = 0
  while (i + 8 <= buf.length && buf[i]! <= 2 && buf[i + 1] === 0 && buf[i + 2] === 0 && buf[i + 3] === 0) {
    const len = buf.readUInt32BE(i + 4)
    frames.push({ stream: buf[i] === 2 ? 'stderr' : 'stdout', text: buf.subarray(i + 8, i + 8 + len).toString('utf8') })
    i += 8 + len
  }
  return i === 0 ? [{ stream: 'stdout', text: buf.toString('utf8') }] : frames
}

/** An RFC 3339 time with its fraction padded to nanoseconds: such strings sort as the times do. */
const sortableTime = (t: string) =>
  t.replace(/(?:\.(\d+))?Z$/, (_, f: string | undefined) => `.${(f ?? '').padEnd(9, '0')}Z`)

/** stderr lines always among the last lines shown: a server's last words are usually its error. */
const STDERR_KEPT = 3

/**
 * The last `n` non-empty lines of a container's log (stdout and stderr, timestamped by the engine as
 * it read them), each cut to 300 characters; [] when there are none or the container is gone.
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
  return pickLastLines(demuxLogs(raw), n)
}

/**
 * The last `n` lines of timestamped frames, in time order. The engine reads stdout and stderr
 * apart and stamps each line when it reads it, so across the two the order is only nearly the
 * order of writing: the last STDERR_KEPT stderr lines are kept in any case (an error message
 * stamped a little before the last lines of stdout is not cut off).
 */
export function pickLastLines(frames: LogFrame[], n: number): string[] {
  const lines = frames
    .flatMap((f) =>
      f.text.split(/\r?\n/).map((l) => {
        const space = l.indexOf(' ')
        return { stream: f.stream, at: sortableTime(l.slice(0, space)), text: l.slice(space + 1).trimEnd() }
      }),
    )
    .filter((l) => l.text.trim())
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
  const kept = new Set(lines.filter((l) => l.stream === 'stderr').slice(-Math.min(STDERR_KEPT, n)))
  const others = lines.filter((l) => !kept.has(l))
  const room = n - kept.size
  const chosen = new Set([...kept, ...(room > 0 ? others.slice(-room) : [])])
  const shown = lines.filter((l) => chosen.has(l))
  return shown.slice(-n).map(({ text }) => (text.length > 300 ? `${text.slice(0, 300)}…` : text))
}
