// What servers report of themselves (a batch job's port, POST /hub/api/batchspawner), kept in Redis
// for every replica: one key per server, {port, tokenDigest, at}. The spawner that started the
// server reads it (spawners' ctx.serverReports) and takes it only when the digest is its server
// token's, so a report of an earlier start is never taken for this one's.
import type { Redis } from 'ioredis'
import type { ServerReport, ServerReports } from '../../../spawners/src'

/** A report outlives the longest job it can belong to (a batch walltime is at most a year). */
const REPORT_TTL_SEC = 400 * 24 * 3600

export class ServerReportStore implements ServerReports {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(user: string, server: string): string {
    return `${this.prefix}server-report:${encodeURIComponent(user)}/${encodeURIComponent(server)}`
  }

  async get(user: string, server: string): Promise<ServerReport | undefined> {
    const raw = await this.redis.get(this.key(user, server))
    if (!raw) return undefined
    try {
      const r = JSON.parse(raw) as Partial<ServerReport>
      if (typeof r.port !== 'number' || typeof r.tokenDigest !== 'string') return undefined
      return { port: r.port, tokenDigest: r.tokenDigest, at: String(r.at ?? '') }
    } catch {
      return undefined
    }
  }

  async set(user: string, server: string, report: ServerReport): Promise<void> {
    await this.redis.set(this.key(user, server), JSON.stringify(report), 'EX', REPORT_TTL_SEC)
  }
}
