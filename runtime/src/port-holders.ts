// Which ports the one-machine stack needs are taken, and by whom: listening sockets from
// /proc/net/tcp{,6}, matched by inode to the process holding them through /proc/PID/fd. Holders are
// visible for processes of the same user (or for root); otherwise only the port is named.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { canBind } from './ports'

export interface PortHolder {
  pid: number
  command: string
}

/** Inodes of the sockets listening on port (any address, IPv4 or IPv6). */
export function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>()
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      // sl local_address rem_address st ... inode (field 9); st 0A = LISTEN
      if (f.length < 10 || f[3] !== '0A') continue
      if (parseInt(f[1].slice(f[1].lastIndexOf(':') + 1), 16) === port) inodes.add(f[9])
    }
  }
  return inodes
}

/**
 * The command line of pid as a message may show it: arguments joined by spaces, control characters
 * (a terminal's escape sequences) blanked, at most 200 characters; '' when gone.
 */
export function commandLine(pid: number): string {
  try {
    const line = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .replace(/\0+$/, '')
      .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
    return line.length > 200 ? `${line.slice(0, 199)}…` : line
  } catch {
    return ''
  }
}

/** Processes holding a socket listening on port (several for nginx: the master and its workers). */
export function portHolders(port: number): PortHolder[] {
  const inodes = listeningInodes(port)
  if (!inodes.size) return []
  const out: PortHolder[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let fds: string[]
    try {
      fds = readdirSync(`/proc/${entry}/fd`)
    } catch {
      continue // another user's process, or gone
    }
    for (const fd of fds) {
      let link: string
      try {
        link = readlinkSync(`/proc/${entry}/fd/${fd}`)
      } catch {
        continue
      }
      const m = /^socket:\[(\d+)\]$/.exec(link)
      if (m && inodes.has(m[1])) {
        out.push({ pid: Number(entry), command: commandLine(Number(entry)) })
        break
      }
    }
  }
  return out.sort((a, b) => a.pid - b.pid)
}

export interface StackPort {
  /** The setting it comes from, e.g. `redis.port`. */
  setting: string
  host: string
  port: number
}

/**
 * The first problem with the ports the stack will listen on, as one line: two settings naming the
 * same port, or a port in use (with the process holding it, when visible). null when all are free.
 */
export async function portProblem(ports: StackPort[]): Promise<string | null> {
  for (let i = 0; i < ports.length; i++) {
    const twin = ports.slice(0, i).find((p) => p.port === ports[i].port)
    if (twin)
      return `${twin.setting} and ${ports[i].setting} are both ${ports[i].port}; each part of the stack needs a port of its own`
  }
  for (const p of ports) {
    if (await canBind(p.host, p.port)) continue
    const holder = portHolders(p.port)[0]
    const by = holder ? ` by pid ${holder.pid} (${holder.command})` : ''
    return `port ${p.port} (${p.setting}) is in use${by}; stop that process or choose another ${p.setting}`
  }
  return null
}
