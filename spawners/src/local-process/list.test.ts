// list(): the server processes a hub started, found by their mark (EDGEHUB_HUB_ID) after the hub that
// started them is gone. Without root, only this Unix user's; as root (servers run as their users' own
// accounts), a process only when it runs as the account of the user it names, never root's.
import { afterAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { createLocalProcessSpawner } from './index'
import { waitFor } from '../../../runtime/src/wait'
import { addAccount, isRoot, passwd, removeAccounts, testPrefix } from '../../../test/support/accounts'

const running: ChildProcess[] = []
const prefix = testPrefix()
afterAll(async () => {
  for (const p of running) if (p.exitCode === null) p.kill('SIGKILL')
  await Promise.all(
    running.map((p) =>
      p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : undefined,
    ),
  )
  if (isRoot) expect(removeAccounts(prefix)).toEqual([])
})

function marked(hubId: string, opts: { uid?: number; gid?: number; user?: string } = {}) {
  const { user = 'ana', ...ids } = opts
  const p = spawn('sleep', ['30'], {
    env: { PATH: process.env.PATH, EDGEHUB_HUB_ID: hubId, JUPYTERHUB_USER: user, JUPYTERHUB_SERVER_NAME: '' },
    stdio: 'ignore',
    ...ids,
  })
  running.push(p)
  return p
}

const spawner = createLocalProcessSpawner({
  command: ['true'],
  notebookDir: '/tmp',
  env: {},
  ip: '127.0.0.1',
  portRange: [20000, 20010],
  dataDir: '/tmp',
  userPrefix: prefix,
  log: { info() {}, warn() {}, error() {} } as never,
})

const running2 = (ps: ChildProcess[]) =>
  waitFor('the processes to run', () => ps.every((p) => p.pid && p.exitCode === null))

describe('local-process list()', () => {
  it.runIf(!isRoot)("finds this user's processes carrying the mark, with user and server", async () => {
    const p = marked('hub-list-a')
    marked('another-hub')
    const found = await waitFor('the marked process', async () => {
      const l = await spawner.list!('hub-list-a')
      return l.length ? l : undefined
    })
    expect(found).toEqual([{ user: 'ana', server: '', state: { pid: p.pid, startTime: expect.any(String) } }])
  })

  it.runIf(isRoot)(
    "as root, finds a marked process of the named user's own account, never root's nor another account's",
    async () => {
      addAccount(`${prefix}ana`)
      addAccount(`${prefix}ben`)
      const ana = passwd(`${prefix}ana`)
      const ben = passwd(`${prefix}ben`)
      const hers = marked('hub-list-b', { uid: ana.uid, gid: ana.gid })
      const rootsCopy = marked('hub-list-b') // root, naming ana
      const bensCopy = marked('hub-list-b', { uid: ben.uid, gid: ben.gid }) // ben, naming ana
      const nobodys = marked('hub-list-b', { uid: 65534, gid: 65534, user: 'nobody' })
      marked('another-hub', { uid: ana.uid, gid: ana.gid })
      await running2([hers, rootsCopy, bensCopy, nobodys])
      const found = await waitFor('her marked process', async () => {
        const l = await spawner.list!('hub-list-b')
        return l.length ? l : undefined
      })
      expect(found).toEqual([{ user: 'ana', server: '', state: { pid: hers.pid, startTime: expect.any(String) } }])
    },
  )
})
