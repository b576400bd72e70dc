// Unix accounts made by tests: a prefix of each test's or stack's own (`spawner.local-process.userPrefix`),
// so that the accounts the hub makes on first spawn (a hub running as root runs each server as its
// user's account), and those a test makes with useradd, are found by name afterwards and removed with
// userdel -r, and nothing else of the machine's is touched.
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'

export const isRoot = process.getuid?.() === 0

/** A fresh prefix: `eh` + 5 random letters + `-` (8 characters, as TLJH's `jupyter-`). */
export function testPrefix(): string {
  const letters = [...randomBytes(5)].map((b) => String.fromCharCode(97 + (b % 26))).join('')
  return `eh${letters}-`
}

/** An account's passwd entry; throws when there is none. */
export function passwd(name: string): { name: string; uid: number; gid: number; home: string; shell: string } {
  const [n, , uid, gid, , home, shell] = execFileSync('getent', ['passwd', name], { encoding: 'utf8' })
    .trim()
    .split(':')
  return { name: n, uid: Number(uid), gid: Number(gid), home, shell }
}

export const accountExists = (name: string) => spawnSync('getent', ['passwd', name]).status === 0

/** Makes account NAME as an administrator would (useradd), with extra groups; the test removes it with removeAccounts. */
export function addAccount(name: string, groups: string[] = []): void {
  execFileSync('useradd', [
    '--create-home',
    '--user-group',
    '--shell',
    '/bin/bash',
    ...(groups.length ? ['--groups', groups.join(',')] : []),
    name,
  ])
}

/**
 * Removes every account and group whose name starts with `prefix` (userdel -r: with its home and
 * its own group); the names that could not be removed, with why.
 */
export function removeAccounts(prefix: string): string[] {
  const problems: string[] = []
  const names = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.split(':')[0])
      .filter((n) => n.startsWith(prefix))
  for (const name of names('/etc/passwd')) {
    // --force: a server of the account killed a moment ago may not have been reaped yet
    const r = spawnSync('userdel', ['--force', '--remove', name], { encoding: 'utf8' })
    if (r.status !== 0 && r.status !== 12) problems.push(`${name}: ${r.stderr.trim()}`) // 12: no home to remove
  }
  for (const name of names('/etc/group')) {
    const r = spawnSync('groupdel', [name], { encoding: 'utf8' })
    if (r.status !== 0) problems.push(`group ${name}: ${r.stderr.trim()}`)
  }
  return problems
}

/**
 * Gives a test stack's settings an account prefix of its own (spawner.local-process.userPrefix,
 * kept when the test set one), so that the accounts its hub makes are its own; the prefix, for
 * removeAccounts when the stack stops.
 */
export function ownAccountPrefix(settings: Record<string, any>): string {
  const spawner = (settings.spawner ??= {})
  const localProcess = (spawner['local-process'] ??= {})
  return (localProcess.userPrefix ??= testPrefix())
}

/** Removes a stopped stack's accounts (as root; nothing to do otherwise); throws naming any left. */
export function removeStackAccounts(prefix: string): void {
  if (!isRoot) return
  const left = removeAccounts(prefix)
  if (left.length) throw new Error(`accounts left behind: ${left.join('; ')}`)
}
