// USER_HZ: the unit of CPU times in /proc/PID/stat (getconf CLK_TCK), read once.
import { execFileSync } from 'node:child_process'

let ticks: number | undefined

export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticks = 100
    }
  }
  return ticks
}
