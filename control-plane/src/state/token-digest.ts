import { createHash } from 'node:crypto'

/** The only form in which an API token is stored: lowercase hex SHA-256 of the token string. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
