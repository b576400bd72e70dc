// Self-signed certificates for TLS tests, made with Debian's openssl: an ECDSA P-256 key and a
// certificate for 127.0.0.1 and localhost, valid for two days.
import { execFileSync } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface TestCertificate {
  certFile: string
  keyFile: string
  /** The PEM text, to give a client as its only trusted CA. */
  pem: string
  /** SHA-256 of the DER certificate, as X509Certificate.fingerprint256 and openssl print it. */
  fingerprint256: string
}

/** Writes <dir>/<name>.crt and <dir>/<name>.key (mode 0600) for CN=<name>. */
export function makeCertificate(dir: string, name: string): TestCertificate {
  const certFile = join(dir, `${name}.crt`)
  const keyFile = join(dir, `${name}.key`)
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'pipe', timeout: 20_000 },
  )
  const pem = readFileSync(certFile, 'utf8')
  return { certFile, keyFile, pem, fingerprint256: new X509Certificate(pem).fingerprint256 }
}

/** The same fingerprint form for a DER certificate a TLS client was shown. */
export function derFingerprint(der: Buffer): string {
  return createHash('sha256')
    .update(der)
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:')
}
