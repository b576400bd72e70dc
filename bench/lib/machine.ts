// The machine and software a run was made on, recorded with its results.
import { execFileSync } from 'node:child_process'
import { cpus, loadavg, release, totalmem } from 'node:os'

function version(cmd: string, args: string[], pattern?: RegExp): string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    const line = out.split('\n')[0].trim()
    return pattern ? (pattern.exec(line)?.[1] ?? line) : line
  } catch (err) {
    const e = err as { stderr?: string }
    const line = String(e.stderr ?? '').split('\n')[0].trim()
    return line || 'not found'
  }
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
