// What a server reports of itself to the hub once it runs where the hub cannot see in advance (a
// batch job on a compute node): the port it listens on, sent by the job to POST /hub/api/batchspawner
// (batchspawner's path and shape) with the server's own API token. The hub keeps each report in
// Redis under the server's owner and name, with a digest of the token that sent it, so a spawner
// takes only the report of the server it started (its token is new at every start).
import { createHash } from 'node:crypto'

export interface ServerReport {
  port: number
  /** tokenDigest() of the server token that sent the report. */
  tokenDigest: string
  /** When the hub received it (ISO 8601). */
  at: string
}

/** The hub's store of reports, as spawners see it: read-only. */
export interface ServerReports {
  get(user: string, server: string): Promise<ServerReport | undefined>
}

/** A server token's digest (SHA-256, hex): what a report and a spawner's state keep instead of the token. */
export const tokenDigest = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex')
