// Accounts for users' servers: names derived safely from hub names, root and system accounts refused,
// and a spawn without an account (createUsers: false) failing with a message that says what to do.
import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  accountName,
  ACCOUNT_PREFIX,
  AccountProblem,
  checkAccount,
  ensureAccount,
  lookupAccount,
  MAX_ACCOUNT_NAME,
  ordinaryUids,
} from './accounts'
import { commandAs, serverProcessEnv } from './run-as'
import { createLocalProcessSpawner } from './index'
import { localProcessSettings as localProcessSchema } from './settings'
import { accountExists, isRoot, removeAccounts, testPrefix } from '../../../test/support/accounts'

const prefix = testPrefix()
const dir = mkdtempSync(join(tmpdir(), 'edgehub-accounts-'))
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
  if (isRoot) expect(removeAccounts(prefix)).toEqual([])
})

describe('accountName', () => {
  it('is the prefix and the name when the name is made of a-z and 0-9', () => {
    expect(accountName('alice', 'jupyter-')).toBe('jupyter-alice')
    expect(accountName('alice', '')).toBe('alice')
  })

  it('writes other characters as _XX, so that no two hub names share an account', () => {
    const names = ['a.b', 'a-b', 'a_b', 'a_2eb', 'a b', 'a@b.c', 'é', 'Ann', 'ann']
    const accounts = names.map((n) => accountName(n, 'jupyter-'))
    expect(new Set(accounts).size).toBe(names.length)
    expect(accountName('a.b', 'jupyter-')).toBe('jupyter-a_2eb')
    for (const a of accounts) expect(a).toMatch(/^jupyter-[a-z0-9_]+$/)
  })

  it('shortens a long name to 32 characters with a hash of the whole name, apart from every short form', () => {
    const long = 'a'.repeat(40)
    const a = accountName(long, 'jupyter-')
    expect(a.length).toBeLessThanOrEqual(MAX_ACCOUNT_NAME)
    expect(a).toMatch(/^jupyter-a+-[0-9a-f]{16}$/)
    expect(accountName(`${long}b`, 'jupyter-')).not.toBe(a)
    expect(accountName('x'.repeat(24), 'jupyter-')).toBe(`jupyter-${'x'.repeat(24)}`) // exactly 32: kept
    expect(accountName('x'.repeat(25), 'jupyter-')).toMatch(/-[0-9a-f]{16}$/)
    // a long name that escapes to many characters is still within the limit
    expect(accountName('.'.repeat(200), 'jupyter-').length).toBeLessThanOrEqual(MAX_ACCOUNT_NAME)
  })

  it('refuses a name useradd would refuse, saying which setting helps', () => {
    expect(() => accountName('1abc', '')).toThrow(/userPrefix/)
    expect(accountName('1abc', 'jupyter-')).toBe('jupyter-1abc')
  })

  it('takes only prefixes that start a valid account name', () => {
    for (const ok of ['', 'jupyter-', 'u_', 'hub']) expect(ok).toMatch(ACCOUNT_PREFIX)
    for (const bad of ['-x', '1x', 'Jupyter-', 'a:b', 'x'.repeat(16), 'a/']) expect(bad).not.toMatch(ACCOUNT_PREFIX)
    // the longest prefix still leaves a long name's account within 32 characters
    const longest = 'p'.repeat(15)
    expect(longest).toMatch(ACCOUNT_PREFIX)
    expect(accountName('n'.repeat(100), longest)).toHaveLength(MAX_ACCOUNT_NAME)
    // and the config refuses any other, naming the setting
    const bad = localProcessSchema.safeParse({ userPrefix: 'Jupyter-' })
    expect(bad.success).toBe(false)
    expect(bad.error?.issues[0].path).toEqual(['userPrefix'])
    expect(localProcessSchema.parse({}).userPrefix).toBe('jupyter-')
    expect(localProcessSchema.parse({}).createUsers).toBe(true)
  })
})

describe('checkAccount', () => {
  const uids = { min: 1000, max: 60000 }
  const account = (uid: number, gid = uid) => ({ name: 'x', uid, gid, home: '/home/x', shell: '/bin/bash' })

  it('refuses root and system accounts, and takes ordinary ones', () => {
    expect(() => checkAccount(account(0), uids)).toThrow(/root/)
    expect(() => checkAccount(account(1500, 0), uids)).toThrow(/root/)
    expect(() => checkAccount(account(1), uids)).toThrow(/system account/) // daemon
    expect(() => checkAccount(account(65534), uids)).toThrow(/system account/) // nobody
    expect(() => checkAccount(account(1000), uids)).not.toThrow()
  })

  it('reads the ordinary range from login.defs', () => {
    const defs = join(dir, 'login.defs')
    writeFileSync(defs, '# c\nUID_MIN\t\t\t 2000\nUID_MAX  3000\n')
    expect(ordinaryUids(defs)).toEqual({ min: 2000, max: 3000 })
    expect(ordinaryUids(join(dir, 'none'))).toEqual({ min: 1000, max: 60000 })
  })
})

describe('lookupAccount', () => {
  it('reads /etc/passwd, and asks the name service (getent) for a name not in it', async () => {
    const file = join(dir, 'passwd')
    writeFileSync(
      file,
      'root:x:0:0:root:/root:/bin/bash\njupyter-ann:x:1234:1235:edgehub user:/home/jupyter-ann:/bin/bash\n',
    )
    expect(await lookupAccount('jupyter-ann', file)).toEqual({
      name: 'jupyter-ann',
      uid: 1234,
      gid: 1235,
      home: '/home/jupyter-ann',
      shell: '/bin/bash',
    })
    expect(await lookupAccount('jupyter-an', file)).toBeUndefined() // a prefix of a name is not that name
    expect((await lookupAccount('nobody', file))?.uid).toBe(65534) // from getent
  })
})

describe('commandAs and serverProcessEnv', () => {
  it('never runs a server as root: an account of uid 0, or none while the hub is root, is refused', () => {
    expect(() => commandAs({ name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' }, 'jupyter', [])).toThrow(
      /root/,
    )
    if (isRoot) expect(() => commandAs(undefined, 'jupyter', [])).toThrow(/root/)
    else expect(commandAs(undefined, 'jupyter', ['x'])).toEqual({ cmd: 'jupyter', args: ['x'] })
  })

  it("switches uid, gid and groups with setpriv, and gives a login's environment without the hub's", () => {
    const a = { name: 'jupyter-ann', uid: 1234, gid: 1235, home: '/home/jupyter-ann', shell: '/bin/bash' }
    const { cmd, args } = commandAs(a, 'jupyter', ['notebook'])
    expect(cmd).toMatch(/\/setpriv$/)
    expect(args).toEqual(['--reuid=1234', '--regid=1235', '--init-groups', '--', 'jupyter', 'notebook'])
    process.env.EDGEHUB_TEST_HUB_SECRET = 'x'
    const env = serverProcessEnv({
      account: a,
      home: '/ignored',
      configured: { HOME: '/elsewhere', EXTRA: '1' },
      forServer: { JUPYTERHUB_USER: 'ann' },
    })
    delete process.env.EDGEHUB_TEST_HUB_SECRET
    expect(env).toMatchObject({
      USER: 'jupyter-ann',
      LOGNAME: 'jupyter-ann',
      HOME: '/home/jupyter-ann',
      SHELL: '/bin/bash',
      EXTRA: '1',
      JUPYTERHUB_USER: 'ann',
    })
    expect(env.PATH).toMatch(/\/usr\/bin/)
    expect(Object.keys(env).sort()).toEqual([
      'EXTRA',
      'HOME',
      'JUPYTERHUB_USER',
      'LANG',
      'LOGNAME',
      'PATH',
      'SHELL',
      'USER',
    ])
  })
})

describe.runIf(isRoot)('without an account (hub as root)', () => {
  const log = { info() {}, warn() {}, error() {} } as never
  const request = (user: string) => ({
    user,
    server: '',
    baseUrl: `/user/${user}/`,
    env: {},
    options: {},
    logFile: join(dir, `${user}.log`),
    progress: () => {},
  })

  it('createUsers: false fails the spawn with a message naming the account to create, and creates none', async () => {
    const spawner = createLocalProcessSpawner({
      command: ['true'],
      env: {},
      ip: '127.0.0.1',
      portRange: [20000, 20010],
      dataDir: dir,
      log,
      userPrefix: prefix,
      createUsers: false,
    })
    await expect(spawner.start(request('zed'), new AbortController().signal)).rejects.toThrow(
      new AccountProblem(
        `there is no Unix account ${prefix}zed for this user's server; an administrator creates it (useradd --create-home ${prefix}zed) or sets spawner.local-process.createUsers`,
      ),
    )
    expect(accountExists(`${prefix}zed`)).toBe(false)
  })

  it('refuses a system account named by a hub name (prefix ""), creating nothing', async () => {
    await expect(ensureAccount('daemon', { create: true })).rejects.toThrow(
      /refusing to run a server as daemon: uid 1 .* system account/,
    )
    await expect(ensureAccount('root', { create: true })).rejects.toThrow(/root/)
  })

  it('makes one account when two servers of a user start at once', async () => {
    const name = `${prefix}twice`
    const [a, b] = await Promise.all([ensureAccount(name, { create: true }), ensureAccount(name, { create: true })])
    expect(a.uid).toBe(b.uid)
    expect(a.uid).toBeGreaterThanOrEqual(1000)
  })
})
