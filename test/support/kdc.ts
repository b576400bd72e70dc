// A real MIT Kerberos KDC (Debian's krb5-kdc) for tests: a realm of its own in a temp directory, on a
// free loopback port, its principals and the hub's keytab made with kadmin.local, stopped by PID.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:net'
import { freePort } from '../../runtime/src/ports'
import { waitFor } from '../../runtime/src/wait'

export const hasKdc = existsSync('/usr/sbin/krb5kdc') && existsSync('/usr/sbin/kadmin.local')
export const REALM = 'EDGEHUB.TEST'

export interface Kdc {
  dir: string
  /** The krb5.conf naming this realm and KDC (KRB5_CONFIG). */
  krb5Config: string
  /** Adds a user principal with a password. */
  addUser(name: string, password: string): void
  /** A keytab with a random key for each service principal (e.g. HTTP/localhost). */
  keytab(...principals: string[]): string
  /** Gets `name` a ticket into a cache of its own (kinit); the cache's path (KRB5CCNAME). */
  kinit(name: string, password: string): string
  stop(): Promise<void>
}

export async function startKdc(): Promise<Kdc> {
  const dir = mkdtempSync(join(tmpdir(), 'edgehub-kdc-'))
  const port = await freePort()
  const krb5Config = join(dir, 'krb5.conf')
  writeFileSync(
    krb5Config,
    `[libdefaults]
  default_realm = ${REALM}
  dns_canonicalize_hostname = false
  rdns = false
  dns_lookup_kdc = false
  dns_lookup_realm = false
[realms]
  ${REALM} = {
    kdc = 127.0.0.1:${port}
  }
`,
  )
  const kdcConf = join(dir, 'kdc.conf')
  writeFileSync(
    kdcConf,
    `[kdcdefaults]
  kdc_ports = ${port}
  kdc_tcp_ports = ${port}
[realms]
  ${REALM} = {
    database_name = ${dir}/principal
    key_stash_file = ${dir}/stash
    acl_file = ${dir}/kadm5.acl
    kdc_listen = 127.0.0.1:${port}
    kdc_tcp_listen = 127.0.0.1:${port}
  }
[logging]
  kdc = FILE:${dir}/kdc.log
`,
  )
  const env = { ...process.env, KRB5_CONFIG: krb5Config, KRB5_KDC_PROFILE: kdcConf }
  const run = (cmd: string, args: string[], input?: string) =>
    execFileSync(cmd, args, { env, input, stdio: ['pipe', 'pipe', 'pipe'] })
  run('/usr/sbin/kdb5_util', ['-r', REALM, 'create', '-s', '-P', 'master-password-of-the-test'])
  const kadmin = (q: string) => run('/usr/sbin/kadmin.local', ['-r', REALM, '-q', q])
  const proc = spawn('/usr/sbin/krb5kdc', ['-n', '-r', REALM], { env, stdio: 'ignore' })
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  await waitFor(
    'the KDC to listen',
    () =>
      new Promise<boolean>((resolve) => {
        if (proc.exitCode !== null) throw new Error('krb5kdc exited')
        const s = connect(port, '127.0.0.1')
        s.once('connect', () => (s.destroy(), resolve(true)))
        s.once('error', () => resolve(false))
      }),
    { timeoutMs: 15_000 },
  )
  let caches = 0
  return {
    dir,
    krb5Config,
    addUser: (name, password) => void kadmin(`addprinc -pw ${password} ${name}`),
    keytab(...principals) {
      const file = join(dir, `service-${principals.length}-${Date.now()}.keytab`)
      for (const p of principals) {
        kadmin(`addprinc -randkey ${p}`)
        kadmin(`ktadd -k ${file} ${p}`)
      }
      return file
    },
    kinit(name, password) {
      const cache = join(dir, `cc-${name}-${++caches}`)
      execFileSync('kinit', [name], {
        env: { ...env, KRB5CCNAME: `FILE:${cache}` },
        input: `${password}\n`,
        stdio: 'pipe',
      })
      return `FILE:${cache}`
    },
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
