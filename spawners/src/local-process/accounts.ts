// Unix accounts for users' servers. When the hub runs as root, each hub user's server runs as a Unix
// account of its own (JupyterHub's LocalProcessSpawner), named PREFIX + the hub name (The Littlest
// JupyterHub's `jupyter-NAME`), and made on first spawn with useradd when allowed.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, readFileSync } from 'node:fs'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** TLJH's prefix: hub users' accounts stand apart from the machine's own (root, daemon, redis, ...). */
export const DEFAULT_USER_PREFIX = 'jupyter-'
/** useradd's limit on a name (Linux utmp's 32 bytes). */
export const MAX_ACCOUNT_NAME = 32
/**
 * What a prefix may hold: a valid start of an account name, at most 15 characters, which leaves room
 * for the `-` and the hash of a long name within 32.
 */
export const ACCOUNT_PREFIX = /^([a-z_][a-z0-9_-]{0,14})?$/
const VALID_ACCOUNT = /^[a-z_][a-z0-9_-]*$/
/** Hex digits of the hub name's SHA-256 in the name of an account whose hub name is too long. */
const HASH_DIGITS = 16

export class AccountProblem extends Error {
  override name = 'AccountProblem'
}

export interface Account {
  name: string
  uid: number
  gid: number
  home: string
  shell: string
}

/**
 * The account name of hub user `user`: prefix + the name with every character other than a-z and
 * 0-9 written as `_XX` (its UTF-8 bytes in hex), so that no two hub names share an account
 * (`a.b` is `a_2eb`, `a-b` is `a_2db`). A name that does not fit in 32 characters keeps its first
 * characters and ends in `-` and 16 hex digits of the hub name's SHA-256; the `-` keeps those apart
 * from the names of the first form. An unusable name (a prefix of '' and a name starting with a
 * digit) throws AccountProblem.
 */
export function accountName(user: string, prefix: string): string {
  let escaped = ''
  for (const byte of Buffer.from(user, 'utf8')) {
    const c = String.fromCharCode(byte)
    escaped += /[a-z0-9]/.test(c) ? c : `_${byte.toString(16).padStart(2, '0')}`
  }
  let name = prefix + escaped
  if (name.length > MAX_ACCOUNT_NAME) {
    const hash = createHash('sha256').update(user, 'utf8').digest('hex').slice(0, HASH_DIGITS)
    const keep = MAX_ACCOUNT_NAME - prefix.length - 1 - HASH_DIGITS
    name = `${prefix}${escaped.slice(0, Math.max(0, keep))}-${hash}`
  }
  if (!VALID_ACCOUNT.test(name)) {
    throw new AccountProblem(
      `user ${JSON.stringify(user)} has no usable Unix account name (${name}): set spawner.local-process.userPrefix to a prefix starting with a letter`,
    )
  }
  return name
}

/** The range of ordinary users' uids (UID_MIN, UID_MAX of /etc/login.defs; 1000-60000 without it). */
export function ordinaryUids(loginDefs = '/etc/login.defs'): { min: number; max: number } {
  let text = ''
  try {
    text = readFileSync(loginDefs, 'utf8')
  } catch {
    /* none: the defaults */
  }
  const value = (key: string, fallback: number) => {
    const m = new RegExp(`^\\s*${key}\\s+(\\d+)\\s*$`, 'm').exec(text)
    return m ? Number(m[1]) : fallback
  }
  return { min: value('UID_MIN', 1000), max: value('UID_MAX', 60000) }
}

const parsePasswd = (line: string): Account => {
  const [name, , uid, gid, , home, shell] = line.split(':')
  return { name, uid: Number(uid), gid: Number(gid), home, shell }
}

/**
 * The account `name`: from /etc/passwd when it is there (read, without starting a process: a start
 * from the hub costs its event loop a fork), else from the name service (getent passwd: LDAP, ...);
 * undefined when there is none.
 */
export async function lookupAccount(name: string, passwdFile = '/etc/passwd'): Promise<Account | undefined> {
  try {
    const line = readFileSync(passwdFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`))
    if (line) return parsePasswd(line)
  } catch {
    /* no such file: the name service alone */
  }
  try {
    const { stdout } = await run('getent', ['passwd', name], { encoding: 'utf8' })
    return parsePasswd(stdout.trim().split('\n')[0])
  } catch (err) {
    if ((err as { code?: unknown }).code === 2) return undefined // getent: key not found
    throw new AccountProblem(`looking up the Unix account ${name} failed: ${(err as Error).message}`)
  }
}

/**
 * Refuses an account a user's server must never run as: root (uid 0), and any account outside the
 * range of ordinary users (system accounts such as daemon or redis, and nobody).
 */
export function checkAccount(account: Account, uids = ordinaryUids()): void {
  if (account.uid === 0 || account.gid === 0)
    throw new AccountProblem(`refusing to run a server as ${account.name}: it has uid or gid 0 (root)`)
  if (account.uid < uids.min || account.uid > uids.max) {
    throw new AccountProblem(
      `refusing to run a server as ${account.name}: uid ${account.uid} is outside the ordinary users' range ${uids.min}-${uids.max} (/etc/login.defs), a system account`,
    )
  }
}

/** The shell of created accounts: Jupyter's terminals start it, so it must be a real one (not nologin). */
const SHELL = '/bin/bash'

/**
 * Makes account `name` as The Littlest JupyterHub does (`useradd --create-home`, home closed to
 * others): its own group, no password (nobody can log in with one), bash as its shell, home 0700.
 */
async function createAccount(name: string): Promise<void> {
  try {
    // HOME_MODE: the home is made closed, rather than closed just after (chmod below, for older useradd)
    await run(
      'useradd',
      [
        '--create-home',
        '--key',
        'HOME_MODE=0700',
        '--user-group',
        '--shell',
        SHELL,
        '--comment',
        'edgehub user',
        '--',
        name,
      ],
      { encoding: 'utf8' },
    )
  } catch (err) {
    // 9: the name is taken (made meanwhile by another hub replica): it is looked up again
    if ((err as { code?: unknown }).code === 9) return
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim()
    throw new AccountProblem(
      `creating the Unix account ${name} with useradd failed: ${stderr || (err as Error).message}`,
    )
  }
}

/** Creations under way in this process, by account name: two servers of one user start at once. */
const creating = new Map<string, Promise<Account>>()

/**
 * The account of `name`, made first when it does not exist and `create` allows; checked with
 * checkAccount. Throws AccountProblem with a message for the user when there is none.
 */
export async function ensureAccount(name: string, opts: { create: boolean }): Promise<Account> {
  const existing = await lookupAccount(name)
  if (existing) {
    checkAccount(existing)
    return existing
  }
  if (!opts.create) {
    throw new AccountProblem(
      `there is no Unix account ${name} for this user's server; an administrator creates it (useradd --create-home ${name}) or sets spawner.local-process.createUsers`,
    )
  }
  const pending =
    creating.get(name) ??
    (async () => {
      try {
        await createAccount(name)
        const made = await lookupAccount(name)
        if (!made)
          throw new AccountProblem(`useradd made the Unix account ${name}, but the name service does not know it`)
        checkAccount(made)
        chmodSync(made.home, 0o700)
        return made
      } finally {
        creating.delete(name)
      }
    })()
  creating.set(name, pending)
  return pending
}

/** PATH of a login (ENV_PATH of /etc/login.defs, Debian's default without it). */
export function loginPath(loginDefs = '/etc/login.defs'): string {
  try {
    const m = /^\s*ENV_PATH\s+PATH=(\S+)\s*$/m.exec(readFileSync(loginDefs, 'utf8'))
    if (m) return m[1]
  } catch {
    /* none */
  }
  return '/usr/local/bin:/usr/bin:/bin'
}
