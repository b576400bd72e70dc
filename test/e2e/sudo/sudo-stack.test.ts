// The sudo spawner in a whole stack: a real jupyterhub-singleuser started through sudo and the
// mediator as the user's own account, in its home, reached through the proxy, its state in Redis, and
// stopped through the API. The stack's hub runs as root here (the harness's), so sudo lets it through
// by root's own rule; test/e2e/sudo/sudo.test.ts and the contract suite run sudo as an unprivileged
// hub account under the narrow rule.
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { person, rootOf, startServer, stopServer, type Admin } from '../../support/people'
import { setUpSudo, sudoSkipReason, type SudoSetup } from '../../support/sudo'
import { passwd } from '../../support/accounts'
import { waitFor } from '../../../runtime/src/wait'

const SINGLEUSER = '/usr/bin/jupyterhub-singleuser'
let skip = sudoSkipReason
try {
  statSync(SINGLEUSER)
} catch {
  skip ??= `${SINGLEUSER} is not installed`
}

describe.skipIf(!!skip)(`sudo spawner in a stack${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let setup: SudoSetup
  let stack: Stack
  let root: Admin

  beforeAll(async () => {
    setup = setUpSudo(['ada'], { servers: [{ argv: [SINGLEUSER] }] })
    stack = await startStack({
      hub: { pollIntervalSec: 1 },
      spawner: { kind: 'sudo', sudo: { mediator: setup.mediator, command: [SINGLEUSER], userPrefix: setup.prefix } },
    })
    root = await rootOf(stack)
  }, 120_000)

  afterAll(async () => {
    await stack?.stop()
    setup?.cleanup()
  }, 120_000)

  it("starts jupyterhub-singleuser as the user's account in its home, reached through the proxy, and stops it", async () => {
    const ada = await person(root, 'ada')
    await startServer(stack.url, ada.token, 'ada', { timeoutMs: 90_000 })
    const rec = await stack.serverRecord('ada')
    expect(rec?.state).toBe('running')
    const account = passwd(`${setup.prefix}ada`)
    expect(rec?.spawner?.account).toBe(account.name)
    const pid = Number(rec?.spawner?.pid)
    expect(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]).toBe(String(account.uid))

    const put = await fetch(`${stack.url}/user/ada/api/contents/through-sudo.txt`, {
      method: 'PUT',
      headers: { ...ada.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'file', format: 'text', content: 'written through sudo' }),
    })
    expect(put.status).toBe(201)
    const file = statSync(join(account.home, 'through-sudo.txt'))
    expect(file.uid).toBe(account.uid)

    await stopServer(stack.url, ada.token, 'ada')
    await waitFor('the server process to end', async () => {
      try {
        return !/^State:\s+[^Z]/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
      } catch {
        return true
      }
    })
  }, 180_000)
})
