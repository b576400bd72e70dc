// Users' auth state (JupyterHub's auth_state): what an authenticator keeps of a login, encrypted in
// Redis with AES-256-GCM under auth.cryptKeys (the first encrypts, every one decrypts, so keys
// rotate), beside when the authenticator last checked the user (refreshAgeSec). A record names its
// key by a digest, never the key; a record no configured key opens reads as no state.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { KeyNames } from './keys'
import type { AuthJson } from '../../../auth/src'

type State = { [k: string]: AuthJson }

/** A key from the configuration: 64 hex digits or base64 of 32 bytes. */
function keyBytes(text: string): Buffer {
  return /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64')
}

/** AES-256-GCM with several keys: records are `v1.KEYID.IV.CIPHERTEXT.TAG` (base64url). */
export class CryptKeeper {
  private readonly keys: Array<{ id: string; key: Buffer }>
  constructor(keyTexts: readonly string[]) {
    this.keys = keyTexts.map((t) => {
      const key = keyBytes(t)
      if (key.length !== 32) throw new Error('an auth.cryptKeys entry is not 32 bytes')
      return { id: createHash('sha256').update(key).digest('base64url').slice(0, 8), key }
    })
  }

  get usable(): boolean {
    return this.keys.length > 0
  }

  encrypt(plain: string, context: string): string {
    const k = this.keys[0]
    if (!k) throw new Error('no auth.cryptKeys to encrypt with')
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', k.key, iv)
    cipher.setAAD(Buffer.from(context)) // a record copied to another user's key does not open
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return [
      'v1',
      k.id,
      iv.toString('base64url'),
      body.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.')
  }

  /** The plain text, or undefined when no key opens it (removed key, tampered record). */
  decrypt(record: string, context: string): string | undefined {
    const [v, id, iv, body, tag] = record.split('.')
    if (v !== 'v1' || !iv || body === undefined || !tag) return undefined
    const k = this.keys.find((x) => x.id === id)
    if (!k) return undefined
    try {
      const authTag = Buffer.from(tag, 'base64url')
      if (authTag.length !== 16) return undefined // only full-length tags
      const d = createDecipheriv('aes-256-gcm', k.key, Buffer.from(iv, 'base64url'), { authTagLength: 16 })
      d.setAAD(Buffer.from(context))
      d.setAuthTag(authTag)
      return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8')
    } catch {
      return undefined
    }
  }

  /** Whether a record was written with a key other than the first (rewrite it at the next chance). */
  stale(record: string): boolean {
    return record.split('.')[1] !== this.keys[0]?.id
  }
}

/** Each user's auth state and last check by the authenticator, in one hash per user. */
export class AuthStates {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
    private readonly crypt: CryptKeeper,
    /** auth.enableAuthState: false keeps no state (only the time of the last check). */
    private readonly enabled: boolean,
  ) {}

  async get(user: string): Promise<State | undefined> {
    if (!this.enabled) return undefined
    const record = await this.redis.hget(this.keys.authState(user), 'state')
    const plain = record ? this.crypt.decrypt(record, user) : undefined
    return plain ? (JSON.parse(plain) as State) : undefined
  }

  /** Records a login or refresh: the state (when given and enabled) and the time of the check. */
  async checked(user: string, state: State | undefined, opts: { via?: string; when?: number } = {}): Promise<void> {
    const fields: Record<string, string> = { checked: String(opts.when ?? Date.now()) }
    if (this.enabled && state !== undefined) fields.state = this.crypt.encrypt(JSON.stringify(state), user)
    if (opts.via) fields.via = opts.via
    await this.redis.hset(this.keys.authState(user), fields)
  }

  /** Which authenticator the user last logged in with, when several are offered (auth.also). */
  async via(user: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.authState(user), 'via')) ?? undefined
  }

  /** Sets the state alone (PATCH /users/NAME with auth_state, as JupyterHub allows admins). */
  async put(user: string, state: State): Promise<void> {
    if (!this.enabled) return
    await this.redis.hset(this.keys.authState(user), 'state', this.crypt.encrypt(JSON.stringify(state), user))
  }

  /** Milliseconds since the authenticator last checked the user; undefined when never. */
  async age(user: string, now = Date.now()): Promise<number | undefined> {
    const checked = await this.redis.hget(this.keys.authState(user), 'checked')
    return checked ? now - Number(checked) : undefined
  }

  async forget(user: string): Promise<void> {
    await this.redis.del(this.keys.authState(user))
  }

  /** The raw record, for tests of what Redis holds. */
  async record(user: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.authState(user), 'state')) ?? undefined
  }
}
