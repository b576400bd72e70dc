// The sudo spawner on real parts: an unprivileged hub account, a group of user accounts, the mediator
// installed root-owned with a configuration of its own, and a sudoers.d drop-in allowing the hub
// account exactly `MEDIATOR --config CONFIG` as members of that group (the rule docs/spawners/sudo.md
// gives). The spawner runs sudo as the hub account (setpriv), so every switch of user goes through
// sudo's real policy. Everything is removed by `cleanup`; needs root and sudo.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { SPAWNERS } from '../../spawners/src'
import { createSudoSpawner } from '../../spawners/src/sudo'
import { CONTRACT_SERVER, type SpawnerUnderTest } from '../contracts/spawner-contract'
import { addAccount, isRoot, passwd, removeAccounts, testPrefix } from './accounts'

export const SUDO = '/usr/bin/sudo'
export const MEDIATOR_SOURCE = resolve(import.meta.dirname, '../../spawners/src/sudo/edgehub-sudo-mediator')

export const sudoSkipReason: string | undefined = !isRoot
  ? 'needs root to make accounts and a sudoers rule'
  : !existsSync(SUDO)
    ? 'sudo is not installed (scripts/install-deps.sh --test installs it)'
    : !existsSync('/usr/bin/python3')
      ? 'the mediator needs /usr/bin/python3'
      : undefined

export interface SudoSetup {
  prefix: string
  group: string
  hub: { name: string; uid: number; gid: number }
  /** The mediator and its arguments, as the sudoers rule names them. */
  mediator: string[]
  config: string
  /** The words that run sudo as the hub account. */
  sudoAsHub: string[]
  /** Accounts in the group, by hub user name (accounts prefix + name). */
  addUser(user: string): { name: string; uid: number; home: string }
  cleanup(): void
}

const quiet = { info() {}, warn() {} }

/** The mediator's configuration for the tests: the contract's server, with an address and a port as its only arguments. */
export const TEST_MEDIATOR_CONFIG = {
  servers: [{ argv: ['/usr/bin/python3', '-c', CONTRACT_SERVER], args: ['127\\.0\\.0\\.1', '[0-9]{1,5}'] }],
}

/** `config`: the mediator's configuration (default TEST_MEDIATOR_CONFIG). */
export function setUpSudo(users: string[] = [], config: object = TEST_MEDIATOR_CONFIG): SudoSetup {
  const prefix = testPrefix()
  const group = `${prefix}users`
  const dir = mkdtempSync('/tmp/edgehub-mediator-')
  const sudoers = `/etc/sudoers.d/edgehub-test-${prefix.slice(0, -1)}`
  const cleanup = () => {
    rmSync(sudoers, { force: true })
    rmSync(dir, { recursive: true, force: true })
    const left = removeAccounts(prefix)
    if (left.length) throw new Error(`accounts left behind: ${left.join('; ')}`)
  }
  try {
    chmodSync(dir, 0o755)
    const mediatorPath = join(dir, 'edgehub-sudo-mediator')
    copyFileSync(MEDIATOR_SOURCE, mediatorPath)
    chmodSync(mediatorPath, 0o755)
    const configFile = join(dir, 'sudo-mediator.json')
    writeFileSync(configFile, JSON.stringify(config), { mode: 0o644 })
    execFileSync('groupadd', [group])
    addAccount(`${prefix}hub`)
    const hub = passwd(`${prefix}hub`)
    const mediator = [mediatorPath, '--config', configFile]
    const rule = `${hub.name} ALL=(%${group}) NOPASSWD: ${mediator.join(' ')}\n`
    writeFileSync(`${sudoers}.new`, rule, { mode: 0o440 })
    const check = spawnSync('visudo', ['-cf', `${sudoers}.new`], { encoding: 'utf8' })
    if (check.status !== 0) throw new Error(`visudo refused the test's rule: ${check.stdout}${check.stderr}`)
    execFileSync('mv', [`${sudoers}.new`, sudoers])
    const addUser = (user: string) => {
      const name = `${prefix}${user}`
      addAccount(name, [group])
      return passwd(name)
    }
    for (const u of users) addUser(u)
    return {
      prefix,
      group,
      hub,
      mediator,
      config: configFile,
      sudoAsHub: ['/usr/bin/setpriv', `--reuid=${hub.uid}`, `--regid=${hub.gid}`, '--init-groups', SUDO],
      addUser,
      cleanup,
    }
  } catch (err) {
    rmSync(`${sudoers}.new`, { force: true })
    cleanup()
    throw err
  }
}

/** The sudo spawner for the contract suite: the contract's users exist as accounts beforehand, as an unprivileged hub needs. */
export async function sudoUnderTest(): Promise<SpawnerUnderTest> {
  // the contract names its users ct<pid%1000>x<n>, n counting its requests (a dozen is plenty)
  const users = Array.from({ length: 12 }, (_, i) => `ct${process.pid % 1000}x${i + 1}`)
  const setup = setUpSudo(users)
  const settings = SPAWNERS.sudo.settings.parse({
    mediator: setup.mediator,
    command: ['/usr/bin/python3', '-c', CONTRACT_SERVER],
    args: ['{ip}', '{port}'],
    userPrefix: setup.prefix,
  })
  return {
    make: () => createSudoSpawner({ ...settings, log: quiet, sudo: setup.sudoAsHub }),
    cleanup: async () => setup.cleanup(),
  }
}
