import { describe, expect, it } from 'vitest'
import { demuxLogs, pickLastLines, type LogFrame } from './logs'

const frame = (stream: 1 | 2, text: string) => {
  const head = Buffer.alloc(8)
  head[0] = stream
  head.writeUInt32BE(Buffer.byteLength(text), 4)
  return Buffer.concat([head, Buffer.from(text)])
}
const at = (ms: number) => `2026-12-07T10:00:00.${String(ms).padStart(3, '0')}Z`

describe('container log lines', () => {
  it("splits the engine's multiplexed stream into stdout and stderr frames", () => {
    const buf = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')])
    expect(demuxLogs(buf)).toEqual([
      { stream: 'stdout', text: 'out\n' },
      { stream: 'stderr', text: 'err\n' },
    ])
    expect(demuxLogs(Buffer.from('a tty log\n'))).toEqual([{ stream: 'stdout', text: 'a tty log\n' }])
  })

  it('gives the last lines in time order, with the last stderr lines kept though stamped before later stdout', () => {
    const frames: LogFrame[] = [
      ...Array.from({ length: 20 }, (_, i) => ({ stream: 'stdout' as const, text: `${at(i * 10)} line ${i}\n` })),
      // the engine read stderr first: its line is stamped before the last lines of stdout
      { stream: 'stderr', text: `${at(15)} fatal: no config\n` },
    ]
    const lines = pickLastLines(frames, 5)
    expect(lines).toEqual(['fatal: no config', 'line 16', 'line 17', 'line 18', 'line 19'])
    // times with fractions of any length sort as times
    expect(
      pickLastLines(
        [
          { stream: 'stdout', text: '2026-12-07T10:00:00.5Z b\n2026-12-07T10:00:00.123456789Z a\n' },
          { stream: 'stdout', text: '2026-12-07T10:00:01Z c\n' },
        ],
        10,
      ),
    ).toEqual(['a', 'b', 'c'])
  })
})
