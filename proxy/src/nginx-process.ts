// Runs the edge proxy: renders nginx.conf into runDir, checks it with `nginx -t`, starts nginx in
// the foreground as a supervised child, waits for the health location, stops it by pid.
import { execFile } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP } from 'node:net'
import { join, resolve } from 'node:path'
import { startChild } from '../../runtime/src/child'
import { portHolders } from '../../runtime/src/port-holders'
import { delay, waitFor } from '../../runtime/src/wait'
import { renderNginxConf, type ProxyRenderOptions } from './render'

export interface ProxyProcessOptions extends ProxyRenderOptions {
  /** Default 'nginx' (from PATH). */
  nginxBinary?: string
  /** How long to wait for the health location to answer; default 15 s. */
  startTimeoutMs?: number
  /** nginx in a process group of its own (the one-machine stack's supervisor; see ChildSpec.ownGroup). */
  ownGroup?: boolean
  /** Gives up the start (and stops nginx) when aborted. */
  signal?: AbortSignal
}

export interface ProxyProcess {
  /** Fast shutdown (SIGTERM), then SIGKILL to the master and its workers after 5 s. Idempotent. */
  stop(): Promise<void>
  /** SIGKILL to the master and every worker at once (a crash, for fault tests); waits until they are gone. */
  kill(): Promise<void>
  /** Re-renders the config (same options), checks it, sends SIGHUP and waits for new workers. */
  reload(): Promise<void>
  /** The master's pid. */
  pid: number
  /** Resolves with the master's exit status when it exits (after its workers, with ownGroup). */
  exited: Promise<number | null>
  /** e.g. http://127.0.0.1:8000 (https with tls) */
  url: string
  errorLog: string
  accessLog: string
  confPath: string
}

export const HEALTH_PATH = '/_edgehub/proxy/health'

function run(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0
      resolve({ code, output: `${stdout}${stderr}`.trim() || String(err?.message ?? '') })
    })
  })
}

/**
 * Status of GET url on a fresh connection, or 0 when nothing answers (refused, reset, timeout). An
 * https url is probed without checking the certificate: it asks whether this nginx answers, not
 * whether a browser would trust it.
 */
export function probe(url: string, timeoutMs = 1000, headers: Record<string, string> = {}): Promise<number> {
  const send = url.startsWith('https:') ? httpsRequest : request
  return new Promise((resolve) => {
    const req = send(url, { headers, timeout: timeoutMs, agent: false, rejectUnauthorized: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', () => resolve(0))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(0))
    req.end()
  })
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Exited: no such process, or a zombie nobody has reaped yet. */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z'
  } catch {
    return true
  }
}

/** The last error nginx wrote to file (from its "[emerg]"/"[error]" line on), or its last lines. */
function lastError(file: string, maxLines = 30): string {
  let lines: string[]
  try {
    lines = readFileSync(file, 'utf8').trimEnd().split('\n')
  } catch {
    return ''
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/\[(emerg|alert|crit|error)\]/.test(lines[i])) return lines.slice(i, i + maxLines).join('\n')
  }
  return lines.slice(-maxLines).join('\n')
}

export async function startProxy(opts: ProxyProcessOptions): Promise<ProxyProcess> {
  const bin = opts.nginxBinary ?? 'nginx'
  const user = opts.user ?? (process.getuid?.() === 0 ? 'root' : undefined)
  const runDir = resolve(opts.runDir)
  const renderOpts: ProxyRenderOptions = { ...opts, runDir, user }
  for (const d of ['logs', 'tmp']) mkdirSync(join(runDir, d), { recursive: true })
  const confPath = join(runDir, 'nginx.conf')
  const errorLog = join(runDir, 'logs', 'error.log')
  const accessLog = join(runDir, 'logs', 'access.log')

  const writeAndTest = async () => {
    writeFileSync(confPath, renderNginxConf(renderOpts), { mode: 0o600 })
    chmodSync(confPath, 0o600)
    const t = await run(bin, ['-t', '-q', '-p', runDir, '-c', confPath])
    if (t.code !== 0) throw new Error(`nginx -t failed for ${confPath}:\n${t.output}`)
  }
  await writeAndTest()

  const child = startChild({
    name: 'nginx',
    command: bin,
    args: ['-p', runDir, '-c', confPath, '-g', 'daemon off;'],
    logFile: join(runDir, 'logs', 'stderr.log'),
    ownGroup: opts.ownGroup,
  })
  const pid = child.proc.pid
  const host = opts.listen.host === '0.0.0.0' ? '127.0.0.1' : opts.listen.host === '::' ? '::1' : opts.listen.host
  const url = `${opts.tls ? 'https' : 'http'}://${isIP(host) === 6 ? `[${host}]` : host}:${opts.listen.port}`
  let exited = false
  void child.exited.then(() => (exited = true))

  const stop = async () => {
    if (exited || pid === undefined) return
    const workers = childPids(pid)
    child.proc.kill('SIGTERM')
    const done = await Promise.race([child.exited.then(() => true), delay(5000).then(() => false)])
    if (!done) {
      child.proc.kill('SIGKILL')
      await child.exited
    }
    for (const w of workers) if (alive(w)) process.kill(w, 'SIGKILL')
  }

  try {
    if (pid === undefined) throw new Error(`failed to start ${bin}`)
    // `nginx -t` does not run init_by_lua: a Lua error there shows up as an early exit.
    const died = child.exited.then((code) => {
      throw new Error(
        `nginx exited with code ${code}:\n${lastError(join(runDir, 'logs', 'stderr.log')) || lastError(errorLog)}`,
      )
    })
    died.catch(() => {})
    await Promise.race([
      died,
      waitFor(`nginx health at ${url}${HEALTH_PATH}`, async () => (await probe(url + HEALTH_PATH)) !== 0, {
        timeoutMs: opts.startTimeoutMs ?? 15_000,
        signal: opts.signal,
      }),
    ])
    // What answered must be this nginx, not another process already on the port (this one then
    // fails to bind and exits a moment later).
    // A holder of another user is not visible in /proc: then none of the holders seen is this nginx.
    const ours = new Set([pid, ...childPids(pid)])
    const holders = portHolders(opts.listen.port)
    const foreign = holders.find((h) => !ours.has(h.pid))
    if (foreign)
      throw new Error(`port ${opts.listen.port} is held by another process: pid ${foreign.pid} (${foreign.command})`)
    if (!holders.length)
      throw new Error(
        `port ${opts.listen.port} answers, but not from this nginx (pid ${pid}): it is held by a process of another user`,
      )
  } catch (err) {
    await stop()
    throw err
  }

  return {
    pid: pid!,
    exited: child.exited,
    url,
    errorLog,
    accessLog,
    confPath,
    stop,
    async kill() {
      if (exited || pid === undefined) return
      const workers = childPids(pid)
      child.proc.kill('SIGKILL')
      for (const w of workers) if (alive(w)) process.kill(w, 'SIGKILL')
      await child.exited
      await waitFor('nginx workers to exit', () => workers.every(gone), { timeoutMs: 5000 })
    },
    async reload() {
      if (exited) throw new Error('nginx is not running')
      await writeAndTest()
      const before = new Set(childPids(pid!))
      process.kill(pid!, 'SIGHUP')
      await waitFor(
        'new nginx workers after reload',
        async () => {
          const now = childPids(pid!)
          return now.some((p) => !before.has(p)) && (await probe(url + HEALTH_PATH)) !== 0
        },
        { timeoutMs: 15_000 },
      )
    },
  }
}
