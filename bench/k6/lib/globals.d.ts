// What k6 provides to scripts besides @types/k6: a console (its output goes to k6's log).
declare global {
  var console: {
    log(...args: unknown[]): void
    info(...args: unknown[]): void
    warn(...args: unknown[]): void
    error(...args: unknown[]): void
  }
}

export {}
