// Plain nginx instances for the benchmark (the upstream and the baseline proxy): a template with
// ${NAME} placeholders rendered into a run directory, started in the foreground, stopped by pid.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startChild, type Child } from '../../runtime/src/child'
import { waitFor } from '../../runtime/src/wait'
import { probe } from '../../proxy/src/nginx-process'
import { defaultModules } from '../../proxy/src/render'

export interface NginxInstance {
  url: string
  /** The master's pid. */
  pid: number
  child: Child
  stop(): Promise<void>
}

/** `load_module` lines for Debian's Lua module (OpenResty has it built in). */
export const modulesDirective = () =>
  defaultModules()
    .map((m) => `load_module ${m};`)
    .join('\n')
/** Workers as root need `user root;`, as the edge proxy does. */
export const userDirective = () => (process.getuid?.() === 0 ? 'user root;' : '')

export async function startNginx(opts: {
  name: string
  template: string
  vars: Record<string, string | number>
  runDir: string
  port: number
  healthPath?: string
}): Promise<NginxInstance> {
  mkdirSync(join(opts.runDir, 'tmp'), { recursive: true })
  const vars: Record<string, string | number> = {
    MODULES: modulesDirective(),
    USER: userDirective(),
    RUN_DIR: opts.runDir,
    PORT: opts.port,
    ...opts.vars,
  }
  const conf = readFileSync(opts.template, 'utf8').replace(/\$\{([A-Z_]+)\}/g, (m, k: string) => {
    if (!(k in vars)) throw new Error(`${opts.template}: no value for ${m}`)
    return String(vars[k])
  })
  const confPath = join(opts.runDir, 'nginx.conf')
  writeFileSync(confPath, conf)
  const child = startChild({
    name: opts.name,
    command: 'nginx',
    args: ['-p', opts.runDir, '-c', confPath, '-g', 'daemon off;'],
    logFile: join(opts.runDir, 'stderr.log'),
  })
  const url = `http://127.0.0.1:${opts.port}`
  await waitFor(
    `${opts.name} to answer`,
    async () => {
      if (child.proc.exitCode !== null)
        throw new Error(`${opts.name} exited: ${readFileSync(join(opts.runDir, 'stderr.log'), 'utf8').slice(-500)}`)
      return (await probe(`${url}${opts.healthPath ?? '/'}`)) > 0
    },
    { timeoutMs: 15_000 },
  )
  return { url, pid: child.proc.pid!, child, stop: () => child.stop() }
}
