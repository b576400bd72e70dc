// HAProxy for the test cluster, configured from the file operators get (deploy/haproxy/haproxy.cfg):
// only the listening address and the proxies' addresses are replaced, so the timings the fault
// suite measures are the shipped ones. A stats socket is added to see which proxies HAProxy
// counts as up, and the global maxconn can be set: the shipped 500 fits a default file limit of
// 1024 (HAProxy needs about two descriptors per connection and refuses to start when it cannot
// raise its limit that far); the fault suite, on a machine that allows more, sets 4096.
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { HEALTH_PATH } from '../../proxy/src/nginx-process'
import { ROOT } from './stack'

export const SHIPPED_HAPROXY_CFG = join(ROOT, 'deploy/haproxy/haproxy.cfg')

export interface HaproxyTimings {
  /** Health-check interval (default-server inter). */
  interMs: number
  /** Failed checks before a server is marked down. */
  fall: number
  /** Passed checks before a server is marked up again. */
  rise: number
}

const ms = (v: string): number => {
  const m = /^(\d+)(ms|s|m)?$/.exec(v)
  if (!m) throw new Error(`haproxy.cfg: cannot read the time "${v}"`)
  return Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1)
}

/** The health-check timings of the shipped file's default-server line. */
export function haproxyTimings(cfg: string = readFileSync(SHIPPED_HAPROXY_CFG, 'utf8')): HaproxyTimings {
  const line = cfg.split('\n').find((l) => /^\s*default-server\s/.test(l))
  if (!line) throw new Error('haproxy.cfg: no default-server line')
  const word = (k: string) => {
    const m = new RegExp(`\\s${k}\\s+(\\S+)`).exec(line)
    if (!m) throw new Error(`haproxy.cfg: default-server has no ${k}`)
    return m[1]
  }
  return { interMs: ms(word('inter')), fall: Number(word('fall')), rise: Number(word('rise')) }
}

/**
 * The shipped configuration with `bind` on `listen` and one `server` line per proxy port in place
 * of the example servers; everything else (timeouts, retries, checks) is kept as shipped. Throws
 * when the file no longer has the lines this relies on, or checks another path than the proxies'.
 */
export function renderHaproxyConfig(
  shipped: string,
  o: { listen: string; proxyPorts: number[]; statsSocket?: string; maxconn?: number },
): string {
  const lines = shipped.split('\n')
  const binds = lines.filter((l) => /^\s*bind\s/.test(l))
  const servers = lines.filter((l) => /^\s*server\s/.test(l))
  if (binds.length !== 1) throw new Error(`haproxy.cfg: expected one bind line, found ${binds.length}`)
  if (servers.length === 0) throw new Error('haproxy.cfg: no server line')
  if (!lines.some((l) => l.trim() === `option httpchk GET ${HEALTH_PATH}`))
    throw new Error(`haproxy.cfg: the health check is not GET ${HEALTH_PATH}`)
  const out: string[] = []
  for (const l of lines) {
    const indent = /^\s*/.exec(l)![0]
    if (/^\s*bind\s/.test(l)) out.push(`${indent}bind ${o.listen}`)
    else if (/^\s*server\s/.test(l)) {
      if (l !== servers[0]) continue
      const [, , , ...opts] = l.trim().split(/\s+/) // server NAME ADDR OPTIONS...
      out.push(...o.proxyPorts.map((p, i) => `${indent}server proxy${i} 127.0.0.1:${p} ${opts.join(' ')}`))
    } else if (o.maxconn && /^\s*maxconn\s/.test(l)) {
      out.push(`${indent}maxconn ${o.maxconn}`)
    } else {
      out.push(l)
      if (o.statsSocket && /^global\s*$/.test(l)) out.push(`    stats socket ${o.statsSocket} mode 600 level user`)
    }
  }
  return out.join('\n')
}

/** Which servers of a backend HAProxy counts as up, from its stats socket ("show stat"). */
export function haproxyServersUp(socket: string, backend: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let out = ''
    const s = connect(socket, () => s.end('show stat\n'))
    s.setTimeout(2000, () => s.destroy(new Error('haproxy stats socket: no answer in 2 s')))
    s.on('data', (d) => (out += d))
    s.on('error', reject)
    s.on('close', () => {
      const [head, ...rows] = out.split('\n').filter(Boolean)
      const cols = (head ?? '').replace(/^# /, '').split(',')
      const at = (r: string[], k: string) => r[cols.indexOf(k)]
      resolve(
        rows
          .map((r) => r.split(','))
          .filter(
            (r) =>
              at(r, 'pxname') === backend &&
              !['FRONTEND', 'BACKEND'].includes(at(r, 'svname')) &&
              at(r, 'status')?.startsWith('UP'),
          )
          .map((r) => at(r, 'svname')),
      )
    })
  })
}
