// list(): the server processes a hub started, found by their mark (EDGEHUB_HUB_ID) after the hub that
// started them is gone; only this Unix user's, whatever another user's process copies.
import { afterAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { createLocalProcessSpawner } from './index'
import { waitFor } from '../../../control-plane/src/util/wait'

const running: ChildProcess[] = []
afterAll(() => {
  for (const p of running) if (p.exitCode === null) p.kill('SIGKILL')
})

function marked(hubId: string, opts: { uid?: number; gid?: number } = {}) {
  const p = spawn('sleep', ['30'], { env: { PATH: process.env.PATH, EDGEHUB_HUB_ID: hubId, JUPYTERHUB_USER: 'ana', JUPYTERHUB_SERVER_NAME: '' }, stdio: 'ignore', ...opts })
  running.push(p)
  return p
}

const spawner = createLocalProcessSpawner({ command: ['true'], notebookDir: '/tmp', env: {}, ip: '127.0.0.1', portRange: [20000, 20010], dataDir: '/tmp', log: { info() {}, warn() {}, error() {} } as never })

describe('local-process list()', () => {
  it('finds this user\'s processes carrying the mark, with user and server', async () => {
    const p = marked('hub-list-a')
    marked('another-hub')
    const found = await waitFor('the marked process', async () => {
      const l = await spawner.list!('hub-list-a')
      return l.length ? l : undefined
    })
    expect(found).toEqual([{ user: 'ana', server: '', state: { pid: p.pid, startTime: expect.any(String) } }])
  })

  it.runIf(process.getuid?.() === 0)('never lists another Unix user\'s process that copies the mark', async () => {
    const nobody = 65534
    const theirs = marked('hub-list-b', { uid: nobody, gid: nobody })
    const mine = marked('hub-list-b')
    await waitFor('both to run', () => [theirs, mine].every((p) => p.pid && p.exitCode === null))
    const pids = (await spawner.list!('hub-list-b')).map((f) => f.state.pid)
    expect(pids).toEqual([mine.pid])
  })
})
