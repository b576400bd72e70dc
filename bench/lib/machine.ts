// The machine and software a run was made on, recorded with its results.
import { execFileSync, spawnSync } from 'node:child_process'
import { cpus, loadavg, release, totalmem } from 'node:os'

function version(cmd: string, args: string[], pattern?: RegExp): string {
  // nginx -v prints to stderr, wrk -v exits 1: take the first line of either stream
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  const line = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0].trim()
  if (r.error || !line) return 'not found'
  return pattern ? (pattern.exec(line)?.[1] ?? line) : line
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return ''
  }
}

export function machineInfo() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    loadavg1m: Math.round(loadavg()[0] * 100) / 100,
    node: process.version,
    nginx: version('nginx', ['-v'], /nginx\/(\S+)/),
    redis: version('redis-server', ['--version'], /v=(\S+)/),
    wrk: version('wrk', ['-v'], /wrk (\S+)/),
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
  }
}

export type MachineInfo = ReturnType<typeof machineInfo>
