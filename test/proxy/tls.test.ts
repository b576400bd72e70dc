// TLS at the edge, on the proxy itself (real nginx, real openssl certificates): https with TLS 1.2
// and 1.3 only and forward-secret AEAD ciphers, HSTS, plain http answered with a redirect on both
// ports, ACME http-01 files, and a certificate change taken by a graceful reload that keeps an open
// WebSocket while new connections get the new certificate.
import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, createServer as createTlsServer, type ConnectionOptions } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { freePort } from '../../runtime/src/ports'
import { waitFor } from '../../runtime/src/wait'
import { derFingerprint, makeCertificate, type TestCertificate } from '../support/tls-cert'
import { http, startFakeServer, startStack, userRoute, type FakeServer, type Stack } from './harness'

let dir: string
let first: TestCertificate
let second: TestCertificate
let stack: Stack
let alice: FakeServer
let redirectPort: number
let certFile: string
let keyFile: string
let httpsPort: number

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgehub-tls-'))
  first = makeCertificate(dir, 'first')
  second = makeCertificate(dir, 'second')
  // the paths the proxy serves from: a renewal writes new bytes there
  certFile = join(dir, 'edge.crt')
  keyFile = join(dir, 'edge.key')
  copyFileSync(first.certFile, certFile)
  copyFileSync(first.keyFile, keyFile)
  mkdirSync(join(dir, 'webroot/.well-known/acme-challenge'), { recursive: true })
  writeFileSync(join(dir, 'webroot/.well-known/acme-challenge/tok-123'), 'tok-123.thumbprint')
  redirectPort = await freePort()
  stack = await startStack({
    proxy: {
      tls: {
        certFile,
        keyFile,
        httpRedirectPort: redirectPort,
        acmeWebroot: join(dir, 'webroot'),
        hstsMaxAgeSec: 31_536_000,
      },
    },
  })
  httpsPort = Number(new URL(stack.proxy.url).port)
  alice = await startFakeServer('alice')
  await stack.tables.apply([
    { table: 'routes', key: '/user/alice/', value: userRoute('alice', alice.target, 'alice-secret') },
    { table: 'users', key: 'alice', value: { admin: false } },
  ])
  const v = await stack.tables.version()
  await waitFor('proxy synced', async () => (await get('/_edgehub/proxy/health')).json?.version === v)
}, 60_000)

afterAll(async () => {
  await stack?.stop()
  await alice?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

interface HttpsReply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
  json?: any
}

/** GET over https, trusting only the certificate served now (`ca`). */
function get(path: string, headers: Record<string, string> = {}, ca = first.pem): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = request(`https://127.0.0.1:${httpsPort}${path}`, { ca, headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (body += d))
      res.on('end', () => {
        let json: unknown
        try {
          json = JSON.parse(body)
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

/** A TLS handshake with the proxy: the protocol and cipher agreed and the certificate shown, or the error. */
function handshake(opts: ConnectionOptions, port = httpsPort) {
  return new Promise<{ protocol?: string | null; cipher?: string; fingerprint?: string; error?: string }>((resolve) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
      const r = {
        protocol: s.getProtocol(),
        cipher: s.getCipher().name,
        fingerprint: derFingerprint(s.getPeerCertificate().raw),
      }
      s.end()
      resolve(r)
    })
    s.on('error', (err) => resolve({ error: err.message }))
  })
}

/** TLS 1.0/1.1 as an old client offers them (OpenSSL's security level 0 lets this client try). */
const OLD_CLIENT: ConnectionOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }

describe('TLS at the edge', () => {
  it('serves https with the configured certificate and HSTS, and curl trusting only it gets the hub', async () => {
    const health = await get('/_edgehub/proxy/health')
    expect(health.status).toBe(200)
    expect(health.headers['strict-transport-security']).toBe('max-age=31536000')
    const hub = await get('/hub/login')
    expect(hub.status).toBe(200)
    expect(hub.headers['strict-transport-security']).toBe('max-age=31536000')
    // what the hub is told: the scheme the browser used
    expect(stack.hub.seen.at(-1)?.headers['x-forwarded-proto']).toBe('https')

    const curl = await new Promise<string>((resolve, reject) =>
      execFile(
        'curl',
        [
          '-sS',
          '--cacert',
          first.certFile,
          '-o',
          '/dev/null',
          '-w',
          '%{http_code} %{ssl_verify_result}',
          `https://127.0.0.1:${httpsPort}/hub/login`,
        ],
        { timeout: 10_000 },
        (err, out, errOut) => (err ? reject(new Error(`${err.message} ${errOut}`)) : resolve(out)),
      ),
    )
    expect(curl).toBe('200 0')
  })

  it('speaks TLS 1.2 and 1.3 with forward-secret AEAD ciphers only, and refuses TLS 1.0/1.1 and CBC suites', async () => {
    const tls13 = await handshake({ minVersion: 'TLSv1.3' })
    expect(tls13).toMatchObject({ protocol: 'TLSv1.3', fingerprint: first.fingerprint256 })
    const tls12 = await handshake({ maxVersion: 'TLSv1.2' })
    expect(tls12.protocol).toBe('TLSv1.2')
    expect(tls12.cipher).toMatch(/^ECDHE-ECDSA-(AES\d+-GCM|CHACHA20-POLY1305)/)

    // the control: a server that does allow TLS 1.1 agrees on it with this same client, so the
    // refusal below is the proxy's and not the client's
    const old = createTlsServer({
      cert: first.pem,
      key: readFileSync(first.keyFile),
      minVersion: 'TLSv1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    })
    old.on('secureConnection', (s) => s.end())
    await new Promise<void>((r) => old.listen(0, '127.0.0.1', r))
    try {
      expect(await handshake(OLD_CLIENT, (old.address() as AddressInfo).port)).toMatchObject({ protocol: 'TLSv1.1' })
    } finally {
      old.close()
    }
    expect((await handshake(OLD_CLIENT)).error).toBeDefined()
    // a TLS 1.2 CBC suite without AEAD
    expect((await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' })).error).toBeDefined()
  })

  it('answers plain http on the https port with a redirect to the same URL over https', async () => {
    const r = await http(`http://127.0.0.1:${httpsPort}/hub/login?next=%2Fuser%2Falice%2F`)
    expect(r.status).toBe(301)
    expect(r.headers.location).toBe(`https://127.0.0.1:${httpsPort}/hub/login?next=%2Fuser%2Falice%2F`)
  })

  it('redirects the http port to https, and serves ACME http-01 files there and nothing else', async () => {
    const r = await http(`http://127.0.0.1:${redirectPort}/user/alice/lab?x=1`)
    expect(r.status).toBe(301)
    expect(r.headers.location).toBe(`https://127.0.0.1:${httpsPort}/user/alice/lab?x=1`)
    const acme = await http(`http://127.0.0.1:${redirectPort}/.well-known/acme-challenge/tok-123`)
    expect(acme.status).toBe(200)
    expect(acme.body).toBe('tok-123.thumbprint')
    expect((await http(`http://127.0.0.1:${redirectPort}/.well-known/acme-challenge/missing`)).status).toBe(404)
    const outside = await http(`http://127.0.0.1:${redirectPort}/.well-known/acme-challenge/..%2f..%2f..%2fedge.key`)
    expect(outside.status).not.toBe(200)
    expect(outside.body).not.toContain('PRIVATE KEY')
  })

  it('keeps a mismatched pair out, then takes a renewed certificate without dropping an open WebSocket', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${httpsPort}/user/alice/api/kernels/k1/channels`, {
      ca: first.pem,
      headers: { cookie: `edgehub-session=${stack.cookie('alice')}` },
    })
    const replies: string[] = []
    ws.on('message', (d) => replies.push(d.toString()))
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    ws.send('before')
    await waitFor('the echo before the reload', () => replies.includes('alice:before'), { timeoutMs: 5000 })

    // half a renewal: the new certificate with the old key. nginx -t refuses it; the old pair stays.
    copyFileSync(second.certFile, certFile)
    await expect(stack.proxy.reload()).rejects.toThrow(/nginx -t failed/)
    expect((await handshake({})).fingerprint).toBe(first.fingerprint256)

    copyFileSync(second.keyFile, keyFile)
    await stack.proxy.reload()
    // the old workers stop accepting once they have taken the signal: from then on, the new pair
    await waitFor(
      'new connections to get the renewed certificate',
      async () => (await handshake({})).fingerprint === second.fingerprint256,
      { timeoutMs: 5000 },
    )
    expect((await get('/_edgehub/proxy/health', {}, second.pem)).status).toBe(200)

    // the connection made before the reload is still served by its worker
    ws.send('after')
    await waitFor('the echo after the reload', () => replies.includes('alice:after'), { timeoutMs: 5000 })
    expect(ws.readyState).toBe(WebSocket.OPEN)
    ws.close()
    // back to the first pair for the other tests
    copyFileSync(first.certFile, certFile)
    copyFileSync(first.keyFile, keyFile)
    await stack.proxy.reload()
  })
})
