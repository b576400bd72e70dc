// Whom a user's server runs as, and the environment it gets. A hub running as root runs each server
// as the user's own Unix account (never as root); an unprivileged hub can only run them as itself.
import { existsSync } from 'node:fs'
import { DEFAULT_USER_PREFIX, loginPath, type Account } from './accounts'

/** Whether servers run as per-user accounts: only a hub running as root can switch to them. */
export const perUserAccounts = (): boolean => process.getuid?.() === 0

/** One line for the operator (edgehub up) and the admin page when servers share the hub's account. */
export const SINGLE_TRUST_DOMAIN_NOTICE =
  "Users' servers run as the hub's own Unix user, so every user's code can read the other users' files and the hub's data: this is a single trust domain. To keep users apart, run the hub as root (each server then runs as the user's own Unix account, see spawner.local-process.createUsers). Or keep the hub unprivileged with spawner.kind: sudo, which starts each server as its user through sudo and a small mediator (docs/spawners/sudo.md)."

const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv']

/** setpriv (util-linux): switches to the account's uid, gid and supplementary groups, then runs the server. */
function setprivPath(): string {
  const found = SETPRIV_PATHS.find((p) => existsSync(p))
  if (!found)
    throw new Error(
      "setpriv (util-linux) is needed to run servers as users' own accounts, and was not found in /usr/bin or /bin",
    )
  return found
}

/**
 * The command line that runs `cmd args` as `account`: its real and effective uid and gid, and the
 * supplementary groups the group database gives it (initgroups), as JupyterHub's LocalProcessSpawner
 * sets them. Without an account, the command itself (an unprivileged hub: as the hub's user).
 */
export function commandAs(account: Account | undefined, cmd: string, args: string[]): { cmd: string; args: string[] } {
  if (!account) {
    if (process.getuid?.() === 0) throw new Error("refusing to start a user's server as root")
    return { cmd, args }
  }
  if (account.uid === 0 || account.gid === 0)
    throw new Error(`refusing to start a user's server as root (account ${account.name})`)
  return {
    cmd: setprivPath(),
    args: [`--reuid=${account.uid}`, `--regid=${account.gid}`, '--init-groups', '--', cmd, ...args],
  }
}

/**
 * The whole environment of a server process. For a per-user account: PATH of a login and LANG, then
 * the operator's `configured` variables (which may set PATH), then the login's USER, LOGNAME, HOME and
 * SHELL (as JupyterHub's LocalProcessSpawner.user_env sets them, over the configured ones), then the
 * hub's `forServer` ones (JUPYTERHUB_*, the server's own token). Nothing else of the hub's environment
 * is passed on: the hub's own secrets (Redis credentials and the like) must never be added here.
 */
export function serverProcessEnv(opts: {
  account?: Account
  home: string
  configured: Record<string, string>
  forServer: Record<string, string>
}): Record<string, string> {
  const lang = process.env.LANG ?? 'C.UTF-8'
  const a = opts.account
  if (!a)
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: opts.home,
      LANG: lang,
      ...opts.configured,
      ...opts.forServer,
    }
  const login = { USER: a.name, LOGNAME: a.name, HOME: a.home, SHELL: a.shell || '/bin/sh' }
  return { PATH: loginPath(), LANG: lang, ...opts.configured, ...login, ...opts.forServer }
}

/** Where users' servers run, for `edgehub up`'s summary: their accounts' homes, or the data directory's home/. */
export function serversWhere(lp: { userPrefix?: string; notebookDir?: string }, homesDir: string): string {
  if (!perUserAccounts()) return `homes: ${homesDir}  (as this hub's user)`
  return `as Unix accounts ${lp.userPrefix ?? DEFAULT_USER_PREFIX}NAME${lp.notebookDir ? '' : ', in their homes'}`
}
