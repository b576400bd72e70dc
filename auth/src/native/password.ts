// Password hashes with scrypt (memory-hard, in Node's crypto): "scrypt$N$r$p$salt$hash", base64url parts.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

const R = 8
const P = 1
const KEYLEN = 32

function derive(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEYLEN, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  )
}

export async function hashPassword(password: string, N: number): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, N, R, P)
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$')
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$')
  if (alg !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64url')
  const key = await derive(password, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p))
  return key.length === expected.length && timingSafeEqual(key, expected)
}

/** A hash of nothing, checked when the user does not exist so both cases take the same time. */
let decoy: Promise<string> | undefined
export function decoyHash(N: number): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'), N)
  return decoy
}
