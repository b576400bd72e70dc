// One error type for everything that reaches a client, shared by the hub and its plug-ins; the hub's
// one handler (control-plane/src/app.tsx) turns it into a response.

export class HubError extends Error {
  readonly expose: boolean
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'error',
    opts: { cause?: unknown; expose?: boolean } = {},
  ) {
    super(message, { cause: opts.cause })
    this.expose = opts.expose ?? status < 500
  }
}

export class BadRequest extends HubError {
  constructor(message: string, code = 'bad_request') {
    super(400, message, code)
  }
}
export class Forbidden extends HubError {
  constructor(message = 'forbidden') {
    super(403, message, 'forbidden')
  }
}
export class NotFound extends HubError {
  constructor(message = 'not found') {
    super(404, message, 'not_found')
  }
}
export class Conflict extends HubError {
  constructor(message: string) {
    super(409, message, 'conflict')
  }
}
/** A spawn the hub refuses or that failed for a reason the user should read. */
export class SpawnFailed extends HubError {
  constructor(
    message: string,
    readonly reason = 'failed',
    cause?: unknown,
  ) {
    super(500, message, 'spawn_failed', { cause, expose: true })
  }
}

/** Bad configuration: printed as is (one line per problem) and the process exits with code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** A write refused because a newer holder of the same lock has written since (a stalled replica). */
export class FencedOut extends HubError {
  constructor(message: string) {
    super(409, message, 'fenced_out', { expose: false })
  }
}

/** Redis (all state) cannot be reached: a retry later will likely succeed. */
export class Unavailable extends HubError {
  constructor(message = 'the hub cannot reach its state store; try again shortly', cause?: unknown) {
    super(503, message, 'unavailable', { cause, expose: true })
  }
}

/** Too many spawns in progress (hub.concurrentSpawnLimit): 429 with a Retry-After header. */
export class SpawnThrottled extends HubError {
  constructor(
    message: string,
    readonly retryAfterSec: number,
  ) {
    super(429, message, 'too_many_spawns')
  }
}
