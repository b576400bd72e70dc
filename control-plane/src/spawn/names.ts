// Server names: they appear in URLs, Redis keys and file names, so only a safe alphabet is accepted.
import { BadRequest } from '../../../runtime/src/errors'

const SERVER_NAME = /^[A-Za-z0-9._-]{1,64}$/

/** '' (the default server) or a valid named-server name; BadRequest otherwise. */
export function checkServerName(name: string): string {
  if (name === '') return name
  if (!SERVER_NAME.test(name) || name === '.' || name === '..') {
    throw new BadRequest('invalid server name: use 1 to 64 letters, digits, ".", "_" or "-"', 'invalid_name')
  }
  return name
}
