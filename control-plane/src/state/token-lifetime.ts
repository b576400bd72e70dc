// How long an API token may live: an integer number of seconds, at most the configured maximum
// (hub.tokenExpiresInMaxSec, JupyterHub's token_expires_in_max_seconds) and never more than
// TOKEN_LIFETIME_CAP_SEC, so that every stored expiry is a time the hub and the proxies can read.

/** Ten years: the longest expiry any token can be given, whatever the configuration says. */
export const TOKEN_LIFETIME_CAP_SEC = 10 * 365 * 24 * 3600

/**
 * The lifetime a token request gets, or the problem with it (a 400 message). `requested` undefined:
 * the configured maximum when there is one (as in JupyterHub), else never expiring.
 */
export function tokenLifetime(requested: unknown, maxSec: number): { expiresInSec?: number; problem?: string } {
  const max = maxSec > 0 ? Math.min(maxSec, TOKEN_LIFETIME_CAP_SEC) : TOKEN_LIFETIME_CAP_SEC
  if (requested === undefined || requested === null) return maxSec > 0 ? { expiresInSec: max } : {}
  if (typeof requested !== 'number' || !Number.isInteger(requested))
    return {
      problem: `token expires_in must be null or an integer number of seconds, not ${(typeof requested === 'number' ? String(requested) : String(JSON.stringify(requested))).slice(0, 40)}`,
    }
  if (requested <= 0) return { problem: `token expires_in must be a positive number of seconds, not ${requested}` }
  if (requested > max) return { problem: `token expires_in: ${requested} must not exceed ${max}` }
  return { expiresInSec: requested }
}
