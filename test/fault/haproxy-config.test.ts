// The fault suite's HAProxy runs the shipped deploy/haproxy/haproxy.cfg with only its addresses
// replaced: every timing, retry and check line is the operators' one.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { haproxyTimings, renderHaproxyConfig, SHIPPED_HAPROXY_CFG } from '../support/haproxy'

describe('HAProxy configuration of the fault suite', () => {
  const shipped = readFileSync(SHIPPED_HAPROXY_CFG, 'utf8')
  const rendered = renderHaproxyConfig(shipped, {
    listen: '127.0.0.1:18000',
    proxyPorts: [18001, 18002, 18003],
    statsSocket: '/tmp/x.sock',
    maxconn: 4096,
  })

  it('keeps every line of the shipped file but the bind and server lines', () => {
    const kept = (cfg: string) => cfg.split('\n').filter((l) => !/^\s*(bind|server|stats socket|maxconn)\s/.test(l))
    expect(kept(rendered)).toEqual(kept(shipped))
    expect(rendered).toMatch(/^\s*bind 127\.0\.0\.1:18000$/m)
    const options = /^\s*server \S+ \S+ (.*)$/m.exec(shipped)![1]
    expect(
      rendered
        .split('\n')
        .filter((l) => /^\s*server\s/.test(l))
        .map((l) => l.trim()),
    ).toEqual([18001, 18002, 18003].map((p, i) => `server proxy${i} 127.0.0.1:${p} ${options}`))
  })

  it('reads the shipped health-check timings', () => {
    expect(haproxyTimings(shipped)).toEqual(haproxyTimings(rendered))
    expect(haproxyTimings('backend b\n    default-server inter 300ms fall 3 rise 1\n')).toEqual({
      interMs: 300,
      fall: 3,
      rise: 1,
    })
  })

  it('sets only the global maxconn', () => {
    expect(
      rendered
        .split('\n')
        .filter((l) => /^\s*maxconn\s/.test(l))
        .map((l) => l.trim()),
    ).toEqual(['maxconn 4096'])
  })

  it('is a configuration HAProxy accepts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgehub-haproxy-'))
    try {
      writeFileSync(join(dir, 'haproxy.cfg'), rendered)
      expect(execFileSync('haproxy', ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' })).toMatch(/valid/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('refuses a file without the lines it replaces', () => {
    expect(() => renderHaproxyConfig(shipped.replace(/^\s*bind .*$/m, ''), { listen: 'x', proxyPorts: [1] })).toThrow(
      /bind/,
    )
    expect(() =>
      renderHaproxyConfig(shipped.replace(/_edgehub\/proxy\/health/, 'health'), { listen: 'x', proxyPorts: [1] }),
    ).toThrow(/health check/)
  })
})
