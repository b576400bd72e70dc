// The OIDC provider's signing keys (a private JWKS) and cookie secrets, kept in Redis so every replica
// signs with the same key and reads the same cookies. One JSON document with a version number: the
// first replica that needs it makes it, the leader rotates it, replicas notice the new version.
//
// A key is published one rotation period before it signs (`next`), so a client that cached the JWKS
// any time since the previous rotation already has the key of every new ID token; a retired key stays
// published until the ID tokens it signed have expired.
import { generateKeyPair, randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { JWK } from 'oidc-provider'

export interface SigningKey {
  kid: string
  /** Epoch seconds: made, made the signing key, retired (replaced as the signing key). */
  created: number
  activated?: number
  retired?: number
  jwk: JWK & { kid: string; alg: 'RS256'; use: 'sig' }
}

export interface CookieSecret {
  secret: string
  created: number
  retired?: number
}

export interface KeySet {
  version: number
  /** Signs ID tokens now. */
  current: SigningKey
  /** Published, signs after the next rotation. */
  next: SigningKey
  /** Published until what they signed has expired, newest first. */
  retired: SigningKey[]
  /** Cookie secrets, the signing one first. */
  cookie: CookieSecret[]
}

/** The keys as oidc-provider takes them: the signing key first (it signs with the first that fits). */
export const providerJwks = (k: KeySet) => ({ keys: [k.current, k.next, ...k.retired].map((x) => x.jwk) })

export interface RotationPolicy {
  /** A signing key older than this (since it began to sign) is replaced by the next one. */
  rotateAfterSec: number
  /** How long a retired signing key stays published: the longest life of a token it signed. */
  keepSigningSec: number
  /** How long a retired cookie secret still verifies: the longest life of a cookie it signed. */
  keepCookieSec: number
}

// Writes ARGV[2] only when the document is still ARGV[1] ('' = absent): replicas never overwrite
// each other's rotation.
const COMPARE_AND_SET = `
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`

const nowSec = () => Math.floor(Date.now() / 1000)

function newSigningKey(created: number): Promise<SigningKey> {
  return new Promise((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, _pub, privateKey) => {
      if (err) return reject(err)
      const kid = randomBytes(9).toString('base64url')
      resolve({
        kid,
        created,
        jwk: { ...(privateKey.export({ format: 'jwk' }) as JWK), kid, alg: 'RS256', use: 'sig' },
      })
    }),
  )
}

const newCookieSecret = (created: number): CookieSecret => ({ secret: randomBytes(32).toString('base64url'), created })

export class SigningKeys {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  async load(): Promise<KeySet | null> {
    return (await this.read())?.set ?? null
  }

  /** The key set, made now when there is none (the first replica to ask wins the race). */
  async ensure(): Promise<KeySet> {
    return (await this.readOrMake()).set
  }

  /**
   * When the signing key is due (or at once with force): the next key signs from now on, the old one
   * is retired, a new next key is made, and so is a new cookie secret. Drops retired keys and secrets
   * that no live token or cookie can need. Returns the kid of the key that now signs (or null when
   * nothing rotated), the kids dropped, and the set as it is now.
   */
  async rotate(
    policy: RotationPolicy,
    opts: { force?: boolean; now?: number } = {},
  ): Promise<{ rotated: string | null; dropped: string[]; keySet: KeySet }> {
    for (let attempt = 0; ; attempt++) {
      const { raw, set: before } = await this.readOrMake()
      const t = opts.now ?? nowSec()
      const next: KeySet = structuredClone(before)
      let rotated: string | null = null
      if (opts.force || t - (next.current.activated ?? next.current.created) >= policy.rotateAfterSec) {
        next.retired.unshift({ ...next.current, retired: t })
        next.current = { ...next.next, activated: t }
        next.next = await newSigningKey(t)
        next.cookie[0].retired = t
        next.cookie.unshift(newCookieSecret(t))
        rotated = next.current.kid
      }
      const live = (x: { retired?: number }, window: number) => x.retired === undefined || t - x.retired < window
      const dropped = next.retired.filter((k) => !live(k, policy.keepSigningSec)).map((k) => k.kid)
      next.retired = next.retired.filter((k) => live(k, policy.keepSigningSec))
      next.cookie = next.cookie.filter((c) => live(c, policy.keepCookieSec))
      if (rotated === null && dropped.length === 0 && next.cookie.length === before.cookie.length)
        return { rotated, dropped, keySet: before }
      next.version = before.version + 1
      if (await this.compareAndSet(raw, next)) return { rotated, dropped, keySet: next }
      if (attempt >= 2) throw new Error('failed to rotate the oidc signing keys: the key set kept changing')
    }
  }

  private async read(): Promise<{ raw: string; set: KeySet } | null> {
    const raw = await this.redis.get(this.key)
    return raw ? { raw, set: JSON.parse(raw) as KeySet } : null
  }

  private async readOrMake(): Promise<{ raw: string; set: KeySet }> {
    const found = await this.read()
    if (found) return found
    const t = nowSec()
    const [current, next] = await Promise.all([newSigningKey(t), newSigningKey(t)])
    const set: KeySet = {
      version: 1,
      current: { ...current, activated: t },
      next,
      retired: [],
      cookie: [newCookieSecret(t)],
    }
    if (await this.compareAndSet('', set)) return { raw: JSON.stringify(set), set }
    return (await this.read())!
  }

  private async compareAndSet(expected: string, next: KeySet): Promise<boolean> {
    return Number(await this.redis.eval(COMPARE_AND_SET, 1, this.key, expected, JSON.stringify(next))) === 1
  }
}
