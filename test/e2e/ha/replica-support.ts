// What the replica tests share: a config file of their own for one proxy and one hub replica, and
// the replica's nginx processes read from /proc (masters of a run dir, workers of a master).
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../../runtime/src/ports'
import { HEALTH_PATH } from '../../../proxy/src/nginx-process'

export function tryKill(pid: number, sig: NodeJS.Signals = 'SIGTERM') {
  try {
    process.kill(pid, sig)
  } catch {
    /* gone */
  }
}

/** The command line of pid ('' once it is gone). */
export const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()
  } catch {
    return ''
  }
}

/** The fields of /proc/pid/stat after the command name: [0] state, [1] ppid, [2] pgrp … */
export const stat = (pid: number) => {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return s.slice(s.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** Live nginx masters whose config is in dir (their command line names it). */
export function masters(dir: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => {
      const c = cmdline(pid)
      return c.startsWith('nginx: master') && c.includes(`${dir}/`) && stat(pid)?.[0] !== 'Z'
    })
}

/** Live nginx workers whose parent is master. */
export function workersOf(master: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => {
      const s = stat(pid)
      return s && s[0] !== 'Z' && Number(s[1]) === master && cmdline(pid).startsWith('nginx: worker')
    })
}

export interface ReplicaConfig {
  dir: string
  file: string
  port: number
  hubPort: number
  /** The proxy replica's health URL. */
  health: string
}

/** A config file in a temp dir of its own: the given Redis, free ports, one nginx worker. */
export async function replicaConfig(redisUrl: string): Promise<ReplicaConfig> {
  const dir = mkdtempSync(join(tmpdir(), 'edgehub-replica-'))
  const [port, hubPort] = await Promise.all([freePort(), freePort()])
  const file = join(dir, 'edgehub.yaml')
  writeFileSync(
    file,
    [
      `dataDir: ${dir}`,
      `port: ${port}`,
      'hub:',
      `  port: ${hubPort}`,
      'redis:',
      `  url: ${redisUrl}`,
      'proxy:',
      '  workers: 1',
      '',
    ].join('\n'),
  )
  return { dir, file, port, hubPort, health: `http://127.0.0.1:${port}${HEALTH_PATH}` }
}
