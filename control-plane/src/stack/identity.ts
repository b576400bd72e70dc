// A stack's identity: a random id kept both in Redis (the hub id, `<prefix>hub-id`) and in the data
// directory (`stack-id`), so that no command acts on another stack's Redis by accident (a second
// stack on the same ports, a CLI pointed at the wrong port). `edgehub up` writes the file; a data
// directory without it (a hub replica on another machine, a CLI run elsewhere) has nothing to
// compare, and is not checked.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { HubError } from '../../../runtime/src/errors'

export const STACK_ID_FILE = 'stack-id'

export const stackIdPath = (dataDir: string) => resolve(join(dataDir, STACK_ID_FILE))

/** The id kept in dataDir, or undefined when there is none. */
export function readStackId(dataDir: string): string | undefined {
  try {
    return readFileSync(stackIdPath(dataDir), 'utf8').trim() || undefined
  } catch {
    return undefined
  }
}

/**
 * Keeps id in dataDir unless an id is there already. Created, never followed through a link an
 * earlier one left there ('wx'), readable by this user only.
 */
export function keepStackId(dataDir: string, id: string): void {
  if (existsSync(stackIdPath(dataDir))) return
  mkdirSync(dataDir, { recursive: true })
  try {
    writeFileSync(stackIdPath(dataDir), `${id}\n`, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
}

/**
 * `edgehub up` with a Redis it did not start (redis.url, Sentinel) and a data directory that keeps
 * no id: the Redis is this stack's only if it had no id either (this start named it). One named by
 * another stack is refused: stopping this stack would stop that one's servers.
 */
export class ForeignRedis extends HubError {
  constructor(where: string, redisId: string, dataDir: string) {
    super(
      500,
      `the Redis at ${where} already belongs to an edgehub stack (id ${redisId}) that this data directory does not know; if it is this stack's, write that id into ${stackIdPath(dataDir)} and start again, else check redis.url and dataDir`,
      'stack_mismatch',
      { expose: true },
    )
  }
}

/** Redis holds another stack's id than the data directory. */
export class StackMismatch extends HubError {
  constructor(where: string, redisId: string, fileId: string, dataDir: string) {
    super(
      500,
      `the Redis at ${where} belongs to another edgehub stack (its id ${redisId}, this data directory's ${fileId} in ${stackIdPath(dataDir)}); refusing to use it: check redis.port / redis.url and dataDir`,
      'stack_mismatch',
      { expose: true },
    )
  }
}

/** Throws StackMismatch when dataDir keeps an id and Redis holds a different one. */
export function checkStackId(redisId: string, dataDir: string, where: string): void {
  const fileId = readStackId(dataDir)
  if (fileId && fileId !== redisId) throw new StackMismatch(where, redisId, fileId, dataDir)
}
