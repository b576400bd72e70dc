// proxy.tls as an operator sets it (docs/tls.md): `edgehub proxy` from the config file serves
// https, the hub then defaults its public URL to https and marks its cookies Secure, a login works
// over https, a renewed certificate written over the files is served within reloadCheckSec without
// a restart, and a certificate file that cannot be read stops the proxy with one line naming the key.
import { execFile } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HEALTH_PATH, probe } from '../../../proxy/src/nginx-process'
import { startChild, type Child } from '../../../runtime/src/child'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'
import { BIN, cleanEnv, startHarness, type Harness } from '../../support/harness'
import { cli } from '../../support/people'
import { derFingerprint, makeCertificate, type TestCertificate } from '../../support/tls-cert'

let certs: string
let first: TestCertificate
let second: TestCertificate
let h: Harness
let proxy: Child
let base: string
const certFile = () => join(certs, 'edge.crt')
const keyFile = () => join(certs, 'edge.key')

beforeAll(async () => {
  certs = mkdtempSync(join(tmpdir(), 'edgehub-tls-certs-'))
  first = makeCertificate(certs, 'first')
  second = makeCertificate(certs, 'second')
  copyFileSync(first.certFile, certFile())
  copyFileSync(first.keyFile, keyFile())
  const port = await freePort()
  h = await startHarness({
    proxies: 0,
    settings: { port, proxy: { tls: { certFile: certFile(), keyFile: keyFile(), reloadCheckSec: 1 } } },
  })
  base = `https://127.0.0.1:${port}`
  proxy = startChild({
    name: 'proxy-tls',
    command: process.execPath,
    args: [BIN, 'proxy', '--config', h.configFile],
    env: cleanEnv({ EDGEHUB_PROXY_RUN_DIR: join(h.dir, 'proxy-tls') }),
    cwd: h.dir,
    logFile: join(h.dir, 'proxy-tls.log'),
  })
  await waitFor('the https proxy to answer', async () => (await probe(base + HEALTH_PATH)) === 200, {
    timeoutMs: 30_000,
  })
}, 90_000)

afterAll(async () => {
  await proxy?.stop(10_000)
  await h?.stop()
  if (certs) rmSync(certs, { recursive: true, force: true })
})

interface Reply {
  status: number
  setCookies: string[]
  location?: string
  body: string
}

/** One https request trusting only the first certificate (no redirects followed). */
function send(path: string, opts: { method?: string; cookie?: string; form?: Record<string, string> } = {}) {
  const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined
  return new Promise<Reply>((resolve, reject) => {
    const req = request(
      base + path,
      {
        method: opts.method ?? 'GET',
        ca: first.pem,
        agent: false,
        headers: {
          ...(opts.cookie ? { cookie: opts.cookie } : {}),
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d) => (text += d))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            setCookies: res.headers['set-cookie'] ?? [],
            location: res.headers.location,
            body: text,
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

const cookieValue = (setCookies: string[], name: string) =>
  setCookies.find((c) => c.startsWith(`${name}=`))?.split(';')[0]

describe('proxy.tls from the config file', () => {
  it('serves the hub over https, with Secure cookies and a login that works', async () => {
    const password = 'tls-alice-password'
    cli(
      { url: base, configFile: h.configFile, dir: h.dir },
      ['user', 'add', 'tls-alice', '--password-stdin'],
      `${password}\n`,
    )
    const page = await send('/hub/login')
    expect(page.status).toBe(200)
    const xsrf = cookieValue(page.setCookies, 'edgehub-xsrf')
    expect(xsrf).toBeDefined()
    expect(page.setCookies.find((c) => c.startsWith('edgehub-xsrf='))).toMatch(/;\s*Secure/i)

    const login = await send('/hub/login', {
      method: 'POST',
      cookie: xsrf,
      form: { _xsrf: xsrf!.split('=')[1], username: 'tls-alice', password },
    })
    expect(login.status, login.body.slice(0, 300)).toBe(302)
    const session = login.setCookies.find((c) => c.startsWith('edgehub-session='))
    expect(session).toMatch(/;\s*Secure/i)
    expect(session).toMatch(/;\s*HttpOnly/i)
  })

  it('serves a renewed certificate written over the files, without a restart', async () => {
    const shown = () =>
      new Promise<string>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: Number(new URL(base).port), rejectUnauthorized: false }, () => {
          const f = derFingerprint(s.getPeerCertificate().raw)
          s.end()
          resolve(f)
        })
        s.on('error', reject)
      })
    expect(await shown()).toBe(first.fingerprint256)
    const pid = proxy.proc.pid
    // a renewal tool writes the key, then the certificate (the mismatched moment is refused by nginx -t)
    writeFileSync(keyFile(), readFileSync(second.keyFile))
    writeFileSync(certFile(), second.pem)
    try {
      await waitFor('the renewed certificate to be served', async () => (await shown()) === second.fingerprint256, {
        timeoutMs: 15_000,
        intervalMs: 200,
      })
      expect(proxy.proc.pid).toBe(pid)
      expect(proxy.proc.exitCode).toBeNull()
    } finally {
      copyFileSync(first.certFile, certFile())
      copyFileSync(first.keyFile, keyFile())
    }
    await waitFor('the first certificate back', async () => (await shown()) === first.fingerprint256, {
      timeoutMs: 15_000,
      intervalMs: 200,
    })
  })

  it('stops with one line naming the setting when a certificate file cannot be read', async () => {
    const bad = join(h.dir, 'bad-tls.yaml')
    const settings = structuredClone(h.settings)
    settings.port = await freePort()
    settings.proxy.runDir = join(h.dir, 'proxy-bad')
    settings.proxy.tls = { certFile: join(certs, 'missing.crt'), keyFile: keyFile() }
    writeFileSync(bad, stringify(settings))
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [BIN, 'proxy', '--config', bad],
        { cwd: h.dir, env: cleanEnv(), timeout: 30_000 },
        (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      ),
    )
    expect(result.code).toBe(1)
    expect(result.stderr.trim()).toBe(`edgehub: proxy.tls.certFile: cannot read ${join(certs, 'missing.crt')} (ENOENT)`)
  })

  it('refuses acmeWebroot without an http port in `config check`, naming the key', async () => {
    const bad = join(h.dir, 'bad-acme.yaml')
    const settings = structuredClone(h.settings)
    settings.proxy.tls = { certFile: certFile(), keyFile: keyFile(), acmeWebroot: certs }
    writeFileSync(bad, stringify(settings))
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [BIN, 'config', 'check', '--config', bad],
        { cwd: h.dir, env: cleanEnv(), timeout: 30_000 },
        (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      ),
    )
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/proxy\.tls\.acmeWebroot.*needs httpRedirectPort/)
  })
})
