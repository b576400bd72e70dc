// Running systemd-run, systemctl and journalctl: one function the spawner is given, so that its tests
// can record the exact command lines and answer with recorded output where no systemd runs.
import { execFile, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface SystemdCommands {
  /** Runs program with args; its stdout, or an error carrying its stderr's last line. */
  run(program: string, args: string[]): Promise<string>
  /** Runs program with args and calls onLine with each line of its stdout until the returned stop is called. */
  follow(program: string, args: string[], onLine: (line: string) => void): () => void
}

export function realCommands(timeoutMs: number): SystemdCommands {
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', SYSTEMD_PAGER: '' }
  return {
    run: (program, args) =>
      new Promise((resolve, reject) => {
        execFile(
          program,
          args,
          { env, timeout: timeoutMs, maxBuffer: 1 << 20, encoding: 'utf8' },
          (err, stdout, stderr) => {
            if (!err) return resolve(stdout)
            const said = stderr.trim().split('\n').pop() || err.message
            reject(Object.assign(new Error(`${program} ${args[0] ?? ''} failed: ${said}`), { stderr }))
          },
        )
      }),
    follow(program, args, onLine) {
      const child = spawn(program, args, { env, stdio: ['ignore', 'pipe', 'ignore'] })
      child.on('error', () => {})
      createInterface({ input: child.stdout! }).on('line', onLine)
      child.unref()
      return () => {
        if (child.exitCode === null) child.kill()
      }
    },
  }
}
