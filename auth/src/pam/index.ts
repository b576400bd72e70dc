// pam: the machine's accounts (JupyterHub's PAMAuthenticator). Each login runs pam-check.py, which
// asks the PAM stack of auth.pam.service through libpam, with the password on its stdin; the user's
// Unix groups come back as the identity's groups (auth.allowedGroups, auth.adminGroups). Checking
// other accounts' passwords needs root (pam_unix reads /etc/shadow): the hub runs as root with
// per-user accounts, as The Littlest JupyterHub does.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Authenticator, Identity, LoginInput } from '../authenticator'
import type { PamSettings } from './settings'
import { Forbidden, HubError } from '../../../runtime/src/errors'
import { Busy, concurrencyLimit } from '../concurrency'

const HELPER = fileURLToPath(new URL('./pam-check.py', import.meta.url))
/** What PAM may answer about a name (and what a shell would take as one): checked before asking it. */
const ACCOUNT_NAME = /^[a-z_][a-z0-9_.-]{0,31}$/

type Answer = { ok: true; groups: string[] } | { ok: false; stage: string; reason: string }

/** Runs the helper with one request on its stdin; its one JSON line. */
function check(req: { service: string; user: string; password: string; account: boolean }, timeoutMs: number) {
  return new Promise<Answer>((resolve, reject) => {
    // nothing of the hub's environment (its secrets) reaches the helper or PAM's modules
    const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' }
    const child = spawn('python3', [HELPER], { stdio: ['pipe', 'pipe', 'ignore'], env })
    let out = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.stdout.on('data', (b: Buffer) => {
      out = (out + b.toString()).slice(0, 64 * 1024)
    })
    child.on('error', (err) => (clearTimeout(timer), reject(err)))
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      try {
        resolve(JSON.parse(out) as Answer)
      } catch {
        reject(new Error(`the PAM helper gave no answer (${signal ?? code})`))
      }
    })
    child.stdin.end(`${JSON.stringify(req)}\n`)
  })
}

export function createPamAuthenticator(o: PamSettings): Authenticator {
  // a helper process each, held for PAM's failure delay: 8 at once, 32 waiting, then "busy"
  const limited = concurrencyLimit(8, 32)
  return {
    kind: 'pam',
    passwordForm: true,
    async authenticate({ username, password }: LoginInput): Promise<Identity | null> {
      if (!password || !ACCOUNT_NAME.test(username)) return null
      let answer: Answer
      try {
        answer = await limited(() =>
          check(
            { service: o.service, user: username, password, account: o.checkAccount },
            Math.round(o.timeoutSec * 1000),
          ),
        )
      } catch (err) {
        if (err instanceof Busy) throw err
        throw new HubError(503, 'The login check could not run. Try again in a few minutes.', 'pam_unavailable', {
          cause: err,
          expose: true,
        })
      }
      if (answer.ok) return { name: username, groups: answer.groups }
      // the right password of an account PAM will not let in: say why (expired, locked), as a terminal does
      if (answer.stage === 'account') throw new Forbidden(`this account may not log in: ${answer.reason}`)
      return null
    },
  }
}
