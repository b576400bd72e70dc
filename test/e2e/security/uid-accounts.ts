// Unix accounts made by a test: a prefix of its own (`spawner.local-process.userPrefix`), so that the
// accounts the hub makes on first spawn, and those the test makes with useradd, are all found by name
// afterwards and removed with userdel -r, and nothing else of the machine's is touched.
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
  const [n, , uid, gid, , home, shell] = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':')
  return { name: n, uid: Number(uid), gid: Number(gid), home, shell }
}

export const accountExists = (name: string) => spawnSync('getent', ['passwd', name]).status === 0

/** Makes account NAME as an administrator would (useradd), with extra groups; the test removes it with removeAccounts. */
export function addAccount(name: string, groups: string[] = []): void {
  execFileSync('useradd', ['--create-home', '--user-group', '--shell', '/bin/bash', ...(groups.length ? ['--groups', groups.join(',')] : []), name])
}

/**
 * Removes every account and group whose name starts with `prefix` (userdel -r: with its home and
 * its own group); the names that could not be removed, with why.
 */
export function removeAccounts(prefix: string): string[] {
  const problems: string[] = []
  const names = (file: string) => readFileSync(file, 'utf8').split('\n').map((l) => l.split(':')[0]).filter((n) => n.startsWith(prefix))
  for (const name of names('/etc/passwd')) {
    const r = spawnSync('userdel', ['-r', name], { encoding: 'utf8' })
    if (r.status !== 0 && r.status !== 12) problems.push(`${name}: ${r.stderr.trim()}`) // 12: no home to remove
  }
  for (const name of names('/etc/group')) {
    const r = spawnSync('groupdel', [name], { encoding: 'utf8' })
    if (r.status !== 0) problems.push(`group ${name}: ${r.stderr.trim()}`)
  }
  return problems
}
