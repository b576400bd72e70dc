// oidc-provider's storage in Redis, so that every hub replica serves every request: one hash per
// stored object (Session, Interaction, AuthorizationCode, AccessToken, RefreshToken, Grant,
// ReplayDetection, ...) with the TTL oidc-provider gives, and the indexes it looks things up by.
import type { Redis } from 'ioredis'
import type { Adapter, AdapterConstructor, AdapterPayload, errors as OidcErrors } from 'oidc-provider'
import type { OidcKeyNames } from '../state/keys'

// KEYS[1] the object; then the grant's index set when ARGV[3] = '1'; then a lookup key (session uid
// or user code) when ARGV[4] = '1'; then, for a Grant, its account's set of grant ids when ARGV[6] = '1'.
// ARGV[1] payload JSON, ARGV[2] TTL in seconds (0: none), ARGV[5] id. An index set lives as long as
// its longest-lived member. `consumed` survives an upsert.
const UPSERT = `
local ttl = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
local i = 2
if ARGV[3] == '1' then
  redis.call('SADD', KEYS[i], KEYS[1])
  local cur = redis.call('TTL', KEYS[i])
  if ttl > 0 and (cur == -1 or cur < ttl) then redis.call('EXPIRE', KEYS[i], ttl) end
  i = i + 1
end
if ARGV[4] == '1' then
  if ttl > 0 then redis.call('SET', KEYS[i], ARGV[5], 'EX', ttl) else redis.call('SET', KEYS[i], ARGV[5]) end
  i = i + 1
end
if ARGV[6] == '1' then
  redis.call('SADD', KEYS[i], ARGV[5])
  local cur = redis.call('TTL', KEYS[i])
  if ttl > 0 and (cur == -1 or cur < ttl) then redis.call('EXPIRE', KEYS[i], ttl) end
end
return 1
`

// 1: consumed now; 0: already consumed (by a concurrent request); -1: gone (expired meanwhile).
const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1])
`

// Deletes every object issued under a grant, and the index.
const REVOKE_GRANT = `
local members = redis.call('SMEMBERS', KEYS[1])
for _, k in ipairs(members) do redis.call('DEL', k) end
redis.call('DEL', KEYS[1])
return #members
`

/** What revoking a grant deletes (oidc-provider's revoke()); other models may name a grant too. */
const ISSUED_UNDER_GRANT = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
])

/** An adapter class for oidc-provider's `adapter` option. `errors` is oidc-provider's own. */
export function redisAdapter(redis: Redis, keys: OidcKeyNames, errors: typeof OidcErrors): AdapterConstructor {
  return class RedisAdapter implements Adapter {
    constructor(readonly name: string) {}

    private key(id: string) {
      return keys.model(this.name, id)
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const ttl = expiresIn && expiresIn > 0 ? Math.ceil(expiresIn) : 0
      const k = [this.key(id)]
      const grant = ISSUED_UNDER_GRANT.has(this.name) && typeof payload.grantId === 'string'
      if (grant) k.push(keys.grant(payload.grantId!))
      const lookup =
        this.name === 'Session' && payload.uid
          ? keys.sessionUid(payload.uid)
          : payload.userCode
            ? keys.userCode(payload.userCode)
            : undefined
      if (lookup) k.push(lookup)
      const account = this.name === 'Grant' && typeof payload.accountId === 'string' ? payload.accountId : undefined
      if (account) k.push(keys.accountGrants(account))
      await redis.eval(
        UPSERT,
        k.length,
        ...k,
        JSON.stringify(payload),
        ttl,
        grant ? '1' : '0',
        lookup ? '1' : '0',
        id,
        account ? '1' : '0',
      )
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const h = await redis.hgetall(this.key(id))
      if (!h.payload) return undefined
      const payload = JSON.parse(h.payload) as AdapterPayload
      return h.consumed ? { ...payload, consumed: Number(h.consumed) } : payload
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const id = await redis.get(keys.sessionUid(uid))
      return id ? this.find(id) : undefined
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const id = await redis.get(keys.userCode(userCode))
      return id ? this.find(id) : undefined
    }

    /**
     * Marks a code or refresh token used, atomically: of two replicas redeeming the same one at once,
     * the second fails as a replay (and, as oidc-provider does for a replay, the grant is revoked).
     */
    async consume(id: string): Promise<void> {
      const won = Number(await redis.eval(CONSUME, 1, this.key(id), Math.floor(Date.now() / 1000)))
      if (won === 1) return
      if (won === 0) {
        const grantId = (await this.find(id))?.grantId
        if (grantId) await this.revokeByGrantId(grantId)
        throw new errors.InvalidGrant(`${this.name} already consumed`)
      }
      throw new errors.InvalidGrant(`${this.name} expired`)
    }

    async destroy(id: string): Promise<void> {
      const found = await this.find(id)
      const extra =
        this.name === 'Session' && found?.uid
          ? [keys.sessionUid(found.uid)]
          : found?.userCode
            ? [keys.userCode(found.userCode)]
            : []
      await redis.del(this.key(id), ...extra)
      if (this.name === 'Grant' && typeof found?.accountId === 'string')
        await redis.srem(keys.accountGrants(found.accountId), id)
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await redis.eval(REVOKE_GRANT, 1, keys.grant(grantId))
    }
  }
}
