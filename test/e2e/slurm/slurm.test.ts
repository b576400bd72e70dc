// The slurm spawner in a whole stack, against a real single-node Slurm (test/support/slurm.ts) whose
// node is at 127.0.0.2: a real jupyterhub-singleuser started as a job for the user's own Unix
// account, in that account's home, reporting its port to POST /hub/api/batchspawner with its own
// token and reached through the proxy at the node's address; the report API refusing every other
// token; the job's walltime and its node's failure shown as the server's stop reason.
import { spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { json } from '../../support/client'
import { person, rootOf, startServer, stopServer, type Admin } from '../../support/people'
import { isRoot, passwd, removeAccounts, testPrefix } from '../../support/accounts'
import { slurmSkipReason, startSlurm, type Slurm } from '../../support/slurm'
import { waitFor } from '../../../runtime/src/wait'

const skip = slurmSkipReason ?? (isRoot ? undefined : 'servers run as per-user accounts only with a hub as root')

describe.skipIf(!!skip)(`slurm spawner in a stack${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let slurm: Slurm
  let stack: Stack
  let root: Admin
  const prefix = testPrefix()

  beforeAll(async () => {
    slurm = await startSlurm({ nodeAddr: '127.0.0.2' })
    stack = await startStack({
      hub: { pollIntervalSec: 1 },
      spawner: {
        kind: 'slurm',
        startTimeoutSec: 120,
        httpTimeoutSec: 60,
        slurm: {
          commandEnv: slurm.env,
          userPrefix: prefix,
          createUsers: true,
          memoryMb: 200,
          walltimeMin: 30,
          pollIntervalSec: 0.5,
          profiles: [
            { slug: 'standard', displayName: 'Standard', default: true },
            { slug: 'short', displayName: 'One minute', overrides: { walltimeMin: 1 } },
          ],
        },
      },
    })
    root = await rootOf(stack)
  }, 120_000)

  afterAll(async () => {
    await stack?.stop()
    await slurm?.stop()
    expect(removeAccounts(prefix)).toEqual([])
  }, 120_000)

  const progressOf = async (who: Admin) => {
    // the start's progress stream, replayed once the server is ready (it ends with the ready event)
    const res = await fetch(`${stack.url}/hub/api/users/${who.name}/server/progress`, {
      headers: who.auth,
      signal: AbortSignal.timeout(10_000),
    })
    return res.text()
  }

  it("starts jupyterhub-singleuser as a Slurm job of the user's own account, in its home, reached through the proxy at the node's address", async () => {
    const ada = await person(root, 'ada')
    await startServer(stack.url, ada.token, 'ada', { timeoutMs: 150_000 })
    const rec = await stack.serverRecord('ada')
    expect(rec?.state).toBe('running')
    expect(rec?.target).toMatch(/^127\.0\.0\.2:\d+$/) // the compute node, not 127.0.0.1
    const jobId = String(rec?.spawner?.jobId)
    expect(jobId).toMatch(/^\d+$/)
    // the job belongs to the user's account, and runs on the node
    const account = passwd(`${prefix}ada`)
    expect((await slurm.command('squeue', ['--noheader', `--jobs=${jobId}`, '--format=%u|%T|%N'])).trim()).toBe(
      `${account.name}|RUNNING|${slurm.node}`,
    )
    // the queue and the node were shown as the start's progress
    const progress = await progressOf(ada)
    expect(progress).toContain(`Slurm job ${jobId} submitted`)
    expect(progress).toContain(`Slurm job ${jobId} running on ${slurm.node}`)

    // through the proxy: the server's API, and a file written in its working directory, the user's home
    const status = await fetch(`${stack.url}/user/ada/api/status`, { headers: ada.auth })
    expect(status.status).toBe(200)
    const put = await fetch(`${stack.url}/user/ada/api/contents/from-slurm.txt`, {
      method: 'PUT',
      headers: { ...ada.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'file', format: 'text', content: 'written on the compute node' }),
    })
    expect(put.status).toBe(201)
    const file = statSync(join(account.home, 'from-slurm.txt'))
    expect(file.uid).toBe(account.uid)

    await stopServer(stack.url, ada.token, 'ada')
    await waitFor(
      'the job to end',
      async () =>
        !/RUNNING|COMPLETING/.test(await slurm.command('squeue', ['--noheader', `--jobs=${jobId}`, '--format=%T'])),
      { timeoutMs: 60_000, intervalMs: 200 },
    )
    expect((await fetch(`http://${rec?.target}/user/ada/api/status`).catch(() => undefined))?.status).toBeUndefined()
  }, 240_000)

  it("takes a port report only with the server's own token, for its own server (403 otherwise)", async () => {
    const bob = await person(root, 'bob')
    const cleo = await person(root, 'cleo')
    await startServer(stack.url, bob.token, 'bob', { timeoutMs: 150_000 })
    const rec = await stack.serverRecord('bob')
    const serverToken = String(rec?.token)
    const port = Number(String(rec?.target).split(':')[1])
    const report = (token: string, body: Record<string, unknown>) =>
      fetch(`${stack.url}/hub/api/batchspawner`, {
        method: 'POST',
        headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    // bob's own API token is not his server's
    expect((await report(bob.token, { port: 1234 })).status).toBe(403)
    // another user's token
    expect((await report(cleo.token, { port: 1234 })).status).toBe(403)
    expect((await report(cleo.token, { port: 1234, user: 'bob', server: '' })).status).toBe(403)
    // bob's server's token, naming someone else's server
    expect((await report(serverToken, { port: 1234, user: 'cleo' })).status).toBe(403)
    expect((await report(serverToken, { port: 1234, user: 'bob', server: 'other' })).status).toBe(403)
    // no token at all
    expect((await fetch(`${stack.url}/hub/api/batchspawner`, { method: 'POST', body: '{"port": 1}' })).status).toBe(403)
    // a bad port
    expect((await report(serverToken, { port: 70000 })).status).toBe(400)
    // the server's own token, as batchspawner's wrapper sends it: 201, and the route is unchanged
    const ok = await report(serverToken, { port })
    expect(ok.status).toBe(201)
    expect(await json(ok)).toEqual({ message: 'BatchSpawner data configured' })
    expect((await stack.serverRecord('bob'))?.target).toBe(rec?.target)
    expect((await fetch(`${stack.url}/user/bob/api/status`, { headers: bob.auth })).status).toBe(200)
    await stopServer(stack.url, bob.token, 'bob')
  }, 240_000)

  it('shows the place of a queued job in the progress stream, and starts the server once the node is free', async () => {
    const fay = await person(root, 'fay')
    // a job of the cluster's own that takes the whole node
    const blocker = (
      await slurm.command('sbatch', [
        '--parsable',
        '--exclusive',
        '--mem=100',
        '--output=/dev/null',
        '--wrap',
        'sleep 600',
      ])
    ).trim()
    try {
      await waitFor(
        'the blocking job to run',
        async () =>
          (await slurm.command('squeue', ['--noheader', `--jobs=${blocker}`, '--format=%T'])).trim() === 'RUNNING',
        { timeoutMs: 60_000, intervalMs: 200 },
      )
      const start = await fetch(`${stack.url}/hub/api/users/fay/server`, { method: 'POST', headers: fay.auth })
      expect(start.status).toBe(202) // pending: the job waits in the queue
      await start.body?.cancel()
      // the progress stream (server-sent events) names the job's place in the queue and Slurm's reason
      const stream = await fetch(`${stack.url}/hub/api/users/fay/server/progress`, {
        headers: fay.auth,
        signal: AbortSignal.timeout(60_000),
      })
      const reader = stream.body!.getReader()
      let seen = ''
      while (!/Slurm job \d+ queued, position 1 of 1 in the queue \((Resources|Priority)\)/.test(seen)) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`the progress stream ended without the queue position: ${seen}`)
        seen += new TextDecoder().decode(value)
      }
      await reader.cancel()
      expect((await stack.serverRecord('fay'))?.state).toBe('pending')
    } finally {
      await slurm.command('scancel', [blocker])
    }
    // the node is free: the job runs and the server starts
    await waitFor("fay's server to be ready", async () => (await stack.serverRecord('fay'))?.state === 'running', {
      timeoutMs: 150_000,
      intervalMs: 500,
    })
    expect((await fetch(`${stack.url}/user/fay/api/status`, { headers: fay.auth })).status).toBe(200)
    await stopServer(stack.url, fay.token, 'fay')
  }, 240_000)

  it('keeps the job through a hub restart: the new hub polls and stops the same job', async () => {
    const gus = await person(root, 'gus')
    await startServer(stack.url, gus.token, 'gus', { timeoutMs: 150_000 })
    const before = await stack.serverRecord('gus')
    const jobId = String(before?.spawner?.jobId)
    await stack.killHub()
    await stack.startHub()
    // the new hub checks every server now (POST /hub/api/proxy), polling the job from its stored state
    expect((await fetch(`${stack.url}/hub/api/proxy`, { method: 'POST', headers: root.auth })).status).toBe(200)
    expect((await fetch(`${stack.url}/user/gus/api/status`, { headers: gus.auth })).status).toBe(200)
    const after = await stack.serverRecord('gus')
    expect(after?.state).toBe('running')
    expect(after?.spawner?.jobId).toBe(before?.spawner?.jobId)
    await stopServer(stack.url, gus.token, 'gus')
    expect(
      (await slurm.command('squeue', ['--noheader', `--jobs=${jobId}`, '--states=all', '--format=%T'])).trim(),
    ).toBe('CANCELLED')
  }, 240_000)

  it("shows a job that reached its walltime as the server's stop reason", async () => {
    const dan = await person(root, 'dan')
    await startServer(stack.url, dan.token, 'dan', { options: { profile: 'short' }, timeoutMs: 150_000 })
    const jobId = String((await stack.serverRecord('dan'))?.spawner?.jobId)
    expect((await slurm.command('squeue', ['--noheader', `--jobs=${jobId}`, '--format=%l'])).trim()).toBe('1:00')
    // Slurm ends the job a minute after its start (checked every 30 s); the hub's check then finds it
    const rec = await waitFor(
      'the server to be stopped at its walltime',
      async () => {
        const r = await stack.serverRecord('dan')
        return r?.state === 'stopped' ? r : undefined
      },
      { timeoutMs: 150_000, intervalMs: 500 },
    )
    expect(String(rec.message)).toContain(`Slurm job ${jobId} reached its time limit (walltime)`)
  }, 240_000)

  it("shows a job whose node failed as the server's stop reason", async () => {
    const eve = await person(root, 'eve')
    await startServer(stack.url, eve.token, 'eve', { timeoutMs: 150_000 })
    const jobId = String((await stack.serverRecord('eve'))?.spawner?.jobId)
    // the node goes down: Slurm ends its jobs as NODE_FAIL
    await slurm.command('scontrol', ['update', `nodename=${slurm.node}`, 'state=down', 'reason=edgehub-test'])
    try {
      const rec = await waitFor(
        'the server to be stopped with its node',
        async () => {
          const r = await stack.serverRecord('eve')
          return r?.state === 'stopped' ? r : undefined
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      )
      expect(String(rec.message)).toContain(`Slurm job ${jobId} ended because its compute node failed`)
      // nothing of the job is left running on the node
      await waitFor("the job's processes to be gone", () => spawnSync('pgrep', ['-u', `${prefix}eve`]).status === 1, {
        timeoutMs: 60_000,
        intervalMs: 200,
      })
    } finally {
      // back in service (with ReturnToService=2 it may already be, when its slurmd registered again)
      await slurm.command('scontrol', ['update', `nodename=${slurm.node}`, 'state=resume']).catch(() => {})
    }
  }, 240_000)
})
