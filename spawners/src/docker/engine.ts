// The connection to the Docker engine (dockerode), and Docker's errors as one readable line.
import Docker from 'dockerode'

/**
 * A client of the engine at `host` (unix:///path, a socket path, tcp://HOST:PORT); unset: dockerode's
 * own defaults (DOCKER_HOST with DOCKER_CERT_PATH/DOCKER_TLS_VERIFY, else /var/run/docker.sock).
 */
export function connectEngine(host: string | undefined, timeoutMs: number): Docker {
  if (!host) return new Docker({ timeout: timeoutMs })
  if (host.startsWith('/')) return new Docker({ socketPath: host, timeout: timeoutMs })
  const url = new URL(host)
  if (url.protocol === 'unix:') return new Docker({ socketPath: url.pathname, timeout: timeoutMs })
  if (url.protocol === 'tcp:' || url.protocol === 'http:')
    return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http', timeout: timeoutMs })
  throw new Error(`spawner.docker.host: expected unix:///path, /path or tcp://HOST:PORT, got ${url.protocol}`)
}

/** Where servers' containers run, for messages: the engine's address. */
export function engineName(host: string | undefined): string {
  return host ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'
}

interface DockerError {
  statusCode?: number
  json?: { message?: string } | null
  reason?: string
  message?: string
}

/** The engine's own message for a failed request (its JSON body), else the error's. */
export function dockerMessage(err: unknown): string {
  const e = err as DockerError
  const text = e?.json?.message ?? e?.message ?? String(err)
  return text.replace(/^\(HTTP code \d+\)\s*[\w ]*-\s*/, '').trim()
}

export const isNotFound = (err: unknown) => (err as DockerError)?.statusCode === 404
/** 304: already stopped; 409: a removal already under way. */
export const isNoChange = (err: unknown) => [304, 409].includes((err as DockerError)?.statusCode ?? 0)
