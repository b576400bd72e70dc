// JSON-lines logging: time, level, component, msg, plus fields. Never pass secrets or tokens here.
export type Level = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(component: string): Logger
}

export function createLogger(
  component = 'hub',
  { level = 'info' as Level, write = (line: string) => process.stderr.write(`${line}\n`) } = {},
): Logger {
  const min = ORDER[level] ?? ORDER.info
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return
    const rec: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, component, msg, ...fields }
    if (rec.err instanceof Error) rec.err = rec.err.stack ?? rec.err.message
    write(JSON.stringify(rec))
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (c) => createLogger(`${component}.${c}`, { level, write }),
  }
}
