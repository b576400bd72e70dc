// A person's server as a Slurm job, in Chromium: a real stack with spawner.kind slurm against a real
// single-node Slurm whose node is at 127.0.0.2 (test/support/slurm.ts); log in through the form,
// the spawn-pending page while the job is queued and starts, the real Jupyter server
// (jupyterhub-singleuser) on the compute node reached through the proxy, and code run in a new
// notebook's kernel: it runs inside the Slurm job, as the user's own account, in their home.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { launchBrowser } from '../../support/browser'
import { startStack, type Stack } from '../../support/stack'
import { person, rootOf, stopServer, type Admin } from '../../support/people'
import { isRoot, passwd, removeAccounts, testPrefix } from '../../support/accounts'
import { slurmSkipReason, startSlurm, type Slurm } from '../../support/slurm'

const skip = slurmSkipReason ?? (isRoot ? undefined : 'servers run as per-user accounts only with a hub as root')

/** New → Python 3 in Jupyter's tree, `code` in the first cell; what the cell printed. */
async function runInNewNotebook(context: BrowserContext, tree: Page, code: string): Promise<string | null> {
  await tree.click('#new-dropdown-button')
  const [nb] = await Promise.all([context.waitForEvent('page'), tree.click('#kernel-python3 a')])
  await nb.waitForLoadState()
  await nb.waitForFunction('window.Jupyter?.notebook?.kernel?.is_connected?.()', null, { timeout: 60_000 })
  await nb.click('.CodeMirror')
  await nb.keyboard.type(code)
  await nb.keyboard.press('Shift+Enter')
  const out = nb.locator('.output_area .output_text pre').first()
  await out.waitFor({ timeout: 30_000 })
  const text = (await out.textContent())?.trim() ?? null
  await nb.close()
  return text
}

describe.skipIf(!!skip)(`a hub spawning Slurm jobs, in a browser${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let slurm: Slurm
  let stack: Stack
  let root: Admin
  let browser: Browser
  const prefix = testPrefix()

  beforeAll(async () => {
    slurm = await startSlurm({ nodeAddr: '127.0.0.2' })
    stack = await startStack({
      spawner: {
        kind: 'slurm',
        startTimeoutSec: 120,
        httpTimeoutSec: 60,
        slurm: {
          commandEnv: slurm.env,
          userPrefix: prefix,
          createUsers: true,
          memoryMb: 300,
          walltimeMin: 30,
          pollIntervalSec: 0.5,
        },
      },
    })
    root = await rootOf(stack)
    browser = await launchBrowser()
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    await stack?.stop()
    await slurm?.stop()
    expect(removeAccounts(prefix)).toEqual([])
  }, 120_000)

  it('logs in, waits while the job starts, lands in its Jupyter through the proxy and runs code in the job', async () => {
    const mia: Admin = await person(root, 'mia')
    const context = await browser.newContext()
    const page = await context.newPage()
    const visited: string[] = []
    page.on('framenavigated', (f) => f === page.mainFrame() && visited.push(new URL(f.url()).pathname))
    await page.goto(`${stack.url}/hub/login`)
    await page.fill('#username', mia.name)
    await page.fill('#password', mia.password)
    await page.click('#login_submit')
    await page.waitForURL(/\/user\/mia\/tree/, { timeout: 150_000 })
    expect(visited).toContain('/hub/spawn-pending/mia')

    // the route goes to the compute node, not to 127.0.0.1
    const rec = await stack.serverRecord('mia')
    expect(rec?.target).toMatch(/^127\.0\.0\.2:\d+$/)
    const jobId = String(rec?.spawner?.jobId)

    const account = passwd(`${prefix}mia`)
    const printed = await runInNewNotebook(
      context,
      page,
      "import os, pwd; print(os.environ['SLURM_JOB_ID'], pwd.getpwuid(os.getuid()).pw_name, os.getcwd(), 6*7)",
    )
    expect(printed).toBe(`${jobId} ${account.name} ${account.home} 42`)

    await stopServer(stack.url, mia.token, mia.name)
    expect((await slurm.command('squeue', ['--noheader', '--states=PENDING,RUNNING', '--format=%i'])).trim()).toBe('')
    await context.close()
  }, 300_000)
})
