// Users' code never runs as root, and never as each other: a hub running as root runs each user's
// Jupyter server as the user's own Unix account (made on first spawn, home 0700), and from one user's
// kernel nothing of another user's, nor of the hub's, can be read. Real accounts, made and removed
// here under a prefix of this test's own; the hub is the one-machine stack of `npm start`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { startStack, type Stack } from '../../support/stack'
import { openKernel, type KernelSocket } from '../../support/kernel'
import { json } from '../../support/client'
import { person, rootOf, startServer, type Admin } from '../../support/people'
import { accountExists, addAccount, isRoot, passwd, removeAccounts, testPrefix } from '../../support/accounts'

const prefix = testPrefix()
const group = `${prefix}lab`
let stack: Stack
let root: Admin
const people: Record<string, Admin> = {}
const kernels: Record<string, KernelSocket> = {}

/** Starts NAME's server (the default command, Jupyter Notebook) and opens a kernel on it with their token. */
async function kernelOf(name: string): Promise<KernelSocket> {
  const p = people[name] ?? (people[name] = await person(root, name))
  await startServer(stack.url, p.token, name, { probe: `/user/${name}/api/status`, timeoutMs: 60_000 })
  const res = await fetch(`${stack.url}/user/${name}/api/kernels`, {
    method: 'POST',
    headers: { ...p.auth, 'content-type': 'application/json' },
    body: '{}',
  })
  expect(res.status).toBe(201)
  const { id } = await json(res)
  return (kernels[name] = await openKernel(
    `${stack.url.replace('http', 'ws')}/user/${name}/api/kernels/${id}/channels`,
    p.auth,
  ))
}

/** Runs Python in the kernel; its printed output as JSON. */
async function run(k: KernelSocket, code: string): Promise<any> {
  const { stdout } = await k.execute(`import json, os\n${code}`)
  return JSON.parse(stdout.trim().split('\n').pop()!)
}

/** Python that tries to read `what` (a file, or a directory's listing); prints "read" or the error's name. */
const tryRead = (what: string) => `
def attempt(path):
    try:
        os.listdir(path) if os.path.isdir(path) else open(path, 'rb').read(1)
        return 'read'
    except Exception as e:
        return type(e).__name__
print(json.dumps(attempt(${JSON.stringify(what)})))`

describe.runIf(isRoot)("users' servers as their own Unix accounts (hub as root)", () => {
  beforeAll(async () => {
    execFileSync('groupadd', [group])
    addAccount(`${prefix}carol`, [group]) // an account the administrator made, with a supplementary group
    stack = await startStack({ spawner: { startTimeoutSec: 60, 'local-process': { userPrefix: prefix } } })
    root = await rootOf(stack)
  }, 60_000)
  afterAll(async () => {
    for (const k of Object.values(kernels)) k.close()
    await stack?.stop()
    expect(removeAccounts(prefix)).toEqual([])
  }, 60_000)

  it("creates the user's account on first spawn, home 0700, and runs the server and its kernels as it, never as root", async () => {
    expect(accountExists(`${prefix}dora`)).toBe(false)
    const k = await kernelOf('dora')
    const account = passwd(`${prefix}dora`)
    expect(statSync(account.home).mode & 0o777).toBe(0o700)
    expect(statSync(account.home).uid).toBe(account.uid)
    const seen = await run(
      k,
      `print(json.dumps({'uid': os.getuid(), 'euid': os.geteuid(), 'gid': os.getgid(), 'server_uid': os.stat('/proc/%d' % os.getppid()).st_uid, 'cwd': os.getcwd(), 'env': {k: os.environ.get(k) for k in ['HOME', 'USER', 'LOGNAME', 'SHELL', 'PATH']}}))`,
    )
    expect(seen).toMatchObject({
      uid: account.uid,
      euid: account.uid,
      gid: account.gid,
      server_uid: account.uid,
      cwd: account.home,
    })
    expect(seen.uid).not.toBe(0)
    expect(seen.env).toMatchObject({
      HOME: account.home,
      USER: account.name,
      LOGNAME: account.name,
      SHELL: '/bin/bash',
    })
    expect(seen.env.PATH).not.toContain('/root')
  }, 90_000)

  it('gives two users two different uids', async () => {
    const a = kernels.alice ?? (await kernelOf('alice'))
    const b = kernels.bob ?? (await kernelOf('bob'))
    const [ua, ub] = [await run(a, 'print(os.getuid())'), await run(b, 'print(os.getuid())')]
    expect(ua).toBe(passwd(`${prefix}alice`).uid)
    expect(ub).toBe(passwd(`${prefix}bob`).uid)
    expect(ua).not.toBe(ub)
  }, 120_000)

  it("runs an administrator's account with its supplementary groups", async () => {
    const k = await kernelOf('carol')
    const gid = Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2])
    const seen = await run(k, "print(json.dumps({'uid': os.getuid(), 'groups': os.getgroups()}))")
    expect(seen.uid).toBe(passwd(`${prefix}carol`).uid)
    expect(seen.groups).toContain(gid)
    expect(seen.groups).not.toContain(0)
  }, 90_000)

  it("keeps one user's code out of another's home and server environment, the hub's data and the server logs", async () => {
    const a = kernels.alice ?? (await kernelOf('alice'))
    const b = kernels.bob ?? (await kernelOf('bob'))
    const bob = await run(
      b,
      "print(json.dumps({'server': os.getppid(), 'kernel': os.getpid(), 'token': os.environ.get('JUPYTERHUB_API_TOKEN', '')}))",
    )
    expect(bob.token).not.toBe('') // there is a secret in bob's environment to protect
    // bob can read his own server's environment: the check below fails for alice only because it is his
    expect(await run(b, tryRead(`/proc/${bob.server}/environ`))).toBe('read')
    const bobHome = passwd(`${prefix}bob`).home
    for (const what of [
      bobHome,
      `/proc/${bob.server}/environ`,
      `/proc/${bob.kernel}/environ`,
      stack.dir,
      stack.configFile,
      join(stack.dir, 'logs'),
    ]) {
      expect({ what, result: await run(a, tryRead(what)) }).toEqual({ what, result: 'PermissionError' })
    }
    // server logs are not for other users either
    const log = join(stack.dir, 'logs', 'servers', 'bob', 'default.log')
    expect(statSync(log).mode & 0o077).toBe(0)
  }, 120_000)
})
