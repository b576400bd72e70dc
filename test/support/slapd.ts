// A real OpenLDAP server (Debian's slapd) for tests: its own directory, a free loopback port, the
// entries given loaded with slapadd before it starts, stopped by PID. Optionally with a self-signed
// certificate for StartTLS (openssl), whose CA the test trusts.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../runtime/src/ports'
import { waitFor } from '../../runtime/src/wait'
import { connect } from 'node:net'

export const SLAPD = '/usr/sbin/slapd'
export const hasSlapd = existsSync(SLAPD)

export interface Slapd {
  url: string
  port: number
  suffix: string
  rootDn: string
  rootPassword: string
  /** The CA certificate (PEM) of the server's certificate, with tls. */
  ca?: string
  stop(): Promise<void>
}

/** Starts slapd with suffix dc=example,dc=org and `ldif` (entries under it) loaded. */
export async function startSlapd(ldif: string, opts: { tls?: boolean } = {}): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'edgehub-slapd-'))
  const db = join(dir, 'db')
  mkdirSync(db)
  const suffix = 'dc=example,dc=org'
  const rootDn = `cn=admin,${suffix}`
  const rootPassword = 'admin-secret'
  let tlsLines = ''
  let ca: string | undefined
  if (opts.tls) {
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=Test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    )
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    )
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n')
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'san.ext',
      '-out',
      'server.pem',
    )
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8')
    tlsLines = `TLSCertificateFile ${dir}/server.pem\nTLSCertificateKeyFile ${dir}/server.key\nTLSCACertificateFile ${dir}/ca.pem\n`
  }
  const conf = join(dir, 'slapd.conf')
  writeFileSync(
    conf,
    `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile ${dir}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
${tlsLines}database mdb
suffix "${suffix}"
rootdn "${rootDn}"
rootpw ${rootPassword}
directory ${db}
maxsize 104857600
access to attrs=userPassword by anonymous auth by self write by * none
access to * by * read
`,
  )
  const base = `dn: ${suffix}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n`
  writeFileSync(join(dir, 'data.ldif'), base + ldif)
  execFileSync('/usr/sbin/slapadd', ['-f', conf, '-l', join(dir, 'data.ldif')], { stdio: 'pipe' })
  const port = await freePort()
  const url = `ldap://127.0.0.1:${port}`
  const proc = spawn(SLAPD, ['-f', conf, '-h', url, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  proc.stderr.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000)
  })
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  await waitFor(
    'slapd to listen',
    () =>
      new Promise<boolean>((resolve) => {
        if (proc.exitCode !== null) throw new Error(`slapd exited: ${stderr}`)
        const s = connect(port, '127.0.0.1')
        s.once('connect', () => (s.destroy(), resolve(true)))
        s.once('error', () => resolve(false))
      }),
    { timeoutMs: 15_000 },
  )
  return {
    url,
    port,
    suffix,
    rootDn,
    rootPassword,
    ca,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** An inetOrgPerson + posixAccount entry under ou=people (userPassword in clear: slapd compares it). */
export function person(uid: string, password: string, uidNumber: number): string {
  return `dn: uid=${uid},ou=people,dc=example,dc=org
objectClass: inetOrgPerson
objectClass: posixAccount
uid: ${uid}
cn: ${uid}
sn: ${uid}
uidNumber: ${uidNumber}
gidNumber: 100
homeDirectory: /home/${uid}
userPassword: ${password}

`
}
