// Authorization codes: single use, short lived, kept as digests. Redeeming deletes the code in the
// same script that reads it, so a replayed code fails on every replica.
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { KeyNames } from '../state/keys'
import { tokenDigest } from '../state/token-digest'

export interface CodeGrant {
  clientId: string
  user: string
  redirectUri: string
  scopes: string[]
  sessionId: string
  codeChallenge: string
  codeChallengeMethod: string
}

const CODE_TTL_SEC = 300

const REDEEM_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v then redis.call('DEL', KEYS[1]) end
return v`

export class OAuthCodes {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
  ) {}

  async issue(grant: CodeGrant): Promise<string> {
    const code = randomBytes(24).toString('base64url')
    await this.redis.set(this.keys.oauthCode(tokenDigest(code)), JSON.stringify(grant), 'EX', CODE_TTL_SEC)
    return code
  }

  /** The grant of a code not used before and not expired; the code is gone afterwards. */
  async redeem(code: string): Promise<CodeGrant | undefined> {
    const raw = (await this.redis.eval(REDEEM_SCRIPT, 1, this.keys.oauthCode(tokenDigest(code)))) as string | null
    return raw ? (JSON.parse(raw) as CodeGrant) : undefined
  }
}
