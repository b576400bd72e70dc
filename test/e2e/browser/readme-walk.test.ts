// The README's quick start, walked literally in headless Chromium: `npm start` from the checkout on a
// fresh data directory, open the printed URL at its root, log in with the printed admin password
// through the form (no deep link, no next=), follow the spawn flow into Jupyter, run 1+1 in a new
// notebook, log out, log in again, and /hub/ leads back to the running server; then a second user
// made with `npx edgehub user add NAME --password-stdin` does the same; then Ctrl-C (SIGINT to the
// process group). A screenshot of each step is kept in .test-runs/readme-walk/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { launchBrowser } from '../../support/browser'
import { ROOT } from '../../support/stack'
import { removeStackAccounts, testPrefix } from '../../support/accounts'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'

const SHOTS = join(ROOT, '.test-runs/readme-walk')
const dir = mkdtempSync(join(tmpdir(), 'edgehub-readme-'))
const accountPrefix = testPrefix()
let env: Record<string, string>
let stack: ChildProcess
let output = ''
let url = ''
let password = ''
let browser: Browser

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')
/** pid and every process below it (servers included: they are the hub's children). */
function descendants(pid: number): number[] {
  let kids: number[] = []
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
  return kids.flatMap((k) => [k, ...descendants(k)])
}

beforeAll(async () => {
  rmSync(SHOTS, { recursive: true, force: true })
  mkdirSync(SHOTS, { recursive: true })
  const [port, hubPort, redisPort] = await Promise.all([freePort(), freePort(), freePort()])
  env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_'))),
    EDGEHUB_DATA_DIR: dir,
    EDGEHUB_PORT: String(port),
    EDGEHUB_HUB_PORT: String(hubPort),
    EDGEHUB_REDIS_PORT: String(redisPort),
    EDGEHUB_PROXY_WORKERS: '1',
    EDGEHUB_AUTH_NATIVE_SCRYPT_COST: '1024',
    // as root, npm start makes a Unix account per user (jupyter-NAME); this walk's own prefix instead,
    // so that it neither reuses nor leaves accounts on the machine
    EDGEHUB_SPAWNER_LOCAL_PROCESS_USER_PREFIX: accountPrefix,
  } as Record<string, string>
  // `npm start` as typed in a terminal: its own process group, like a shell's foreground job.
  stack = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  stack.stdout!.on('data', (d) => (output += d))
  stack.stderr!.on('data', (d) => (output += d))
  browser = await launchBrowser()
  await waitFor(
    'npm start to print its URL',
    () => output.includes('Press Ctrl-C to stop') || stack.exitCode !== null,
    { timeoutMs: 90_000, intervalMs: 100 },
  )
  url = output.match(/edgehub is running at (\S+)/)?.[1] ?? ''
  password = output.match(/log in as "admin" with password: (\S+)/)?.[1] ?? ''
  if (!url || !password)
    throw new Error(`npm start did not print the URL and the first admin's password:\n${redact(output)}`)
  expect(url).toBe(`http://127.0.0.1:${port}/`)
}, 120_000)

afterAll(async () => {
  await browser?.close()
  const pids = stack?.pid ? [stack.pid, ...descendants(stack.pid)] : []
  let exited = true
  if (stack && stack.exitCode === null) {
    process.kill(-stack.pid!, 'SIGINT') // what Ctrl-C does: the whole foreground process group
    exited = await waitFor(
      'npm start to exit after Ctrl-C',
      () => stack.exitCode !== null || stack.signalCode !== null,
      { timeoutMs: 30_000, intervalMs: 100 },
    ).then(
      () => true,
      () => false,
    )
  }
  const left = pids.filter(alive)
  for (const pid of left) process.kill(pid, 'SIGKILL')
  if (left.length)
    console.warn(`readme walk: ${left.length} process(es) outlived Ctrl-C and were killed: ${left.join(' ')}`)
  writeFileSync(join(SHOTS, 'npm-start-output.txt'), redact(output))
  console.log(`readme walk: screenshots and the output of npm start are in ${SHOTS}`)
  if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
  removeStackAccounts(accountPrefix)
  expect(exited, 'npm start exits on Ctrl-C within 30 s').toBe(true)
}, 60_000)

/** The output without the printed password. */
const redact = (text: string) => text.replace(/(with password: )\S+/g, '$1…')

let shot = 0
const screenshot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${String(++shot).padStart(2, '0')}-${name}.png`) })

/** Paths the tab went through, in order. */
function track(page: Page): string[] {
  const visited: string[] = []
  page.on('framenavigated', (f) => f === page.mainFrame() && visited.push(new URL(f.url()).pathname))
  return visited
}

async function logIn(page: Page, name: string, pass: string) {
  await page.fill('#username', name)
  await page.fill('#password', pass)
  await page.click('#login_submit')
}

/** New → Python 3 in Jupyter's tree, 1+1 in the first cell; returns what the cell printed. */
async function runOnePlusOne(context: BrowserContext, tree: Page, name: string): Promise<string | null> {
  await tree.click('#new-dropdown-button')
  const [nb] = await Promise.all([context.waitForEvent('page'), tree.click('#kernel-python3 a')])
  await nb.waitForLoadState()
  await nb.waitForFunction('window.Jupyter?.notebook?.kernel?.is_connected?.()', null, { timeout: 30_000 })
  await nb.click('.CodeMirror')
  await nb.keyboard.type('1+1')
  await nb.keyboard.press('Shift+Enter')
  const out = nb.locator('.output_area .output_text pre').first()
  await out.waitFor({ timeout: 20_000 })
  await screenshot(nb, `${name}-notebook-1+1`)
  const text = (await out.textContent())?.trim() ?? null
  await nb.close()
  return text
}

/** From the root URL to Jupyter: login form, spawn flow, the server's tree. */
async function arrive(page: Page, name: string, pass: string) {
  const visited = track(page)
  await page.goto(url)
  expect(new URL(page.url()).pathname).toBe('/hub/login')
  await screenshot(page, `${name}-login`)
  await logIn(page, name, pass)
  await page.waitForURL(/\/hub\/spawn-pending\//, { timeout: 15_000 })
  await screenshot(page, `${name}-spawn-pending`)
  await page.waitForURL(new RegExp(`/user/${name}/tree`), { timeout: 60_000 })
  await page.locator('#notebook_list').getByText('The notebook list is empty.').waitFor() // a fresh home, listed
  await screenshot(page, `${name}-jupyter-tree`)
  expect(visited).toContain(`/hub/spawn-pending/${name}`)
  expect(visited).not.toContain('/hub/home') // straight into the spawn flow, as the README says
}

describe('the README quick start in a browser', () => {
  it('npm start, log in as the printed admin, spawn, run 1+1, log out, log in again, /hub/ leads to the server', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await arrive(page, 'admin', password)
    expect(await runOnePlusOne(context, page, 'admin')).toBe('2')

    // The hub's own Log out, from its home page.
    await page.goto(`${url}hub/home`)
    await expect.poll(() => page.locator('#server-status').textContent()).toBe('running')
    await screenshot(page, 'admin-home')
    await page.click('header >> text=Log out')
    await page.waitForURL(/\/hub\/login\?logged_out=1/)
    await screenshot(page, 'admin-logged-out')
    await page.goto(`${url}user/admin/tree`)
    expect(new URL(page.url()).pathname).toBe('/hub/login') // the session ended at the proxy too

    // Log in again from the login page: the running server, no second spawn.
    await page.goto(`${url}hub/login`)
    const visited = track(page)
    await logIn(page, 'admin', password)
    await page.waitForURL(/\/user\/admin\/tree/, { timeout: 20_000 })
    expect(visited).not.toContain('/hub/spawn-pending/admin')
    await page.locator('#notebook_list').getByText('Untitled.ipynb').waitFor() // the same server, with the notebook
    await screenshot(page, 'admin-logged-in-again')
    await page.goto(`${url}hub/`)
    await page.waitForURL(/\/user\/admin\/tree/)
    await page.locator('#notebook_list').getByText('Untitled.ipynb').waitFor()
    await screenshot(page, 'admin-hub-slash')
    await context.close()
  }, 180_000)

  it('a second user made with `npx edgehub user add NAME --password-stdin` logs in, spawns and runs 1+1', async () => {
    const add = spawn('npx', ['edgehub', 'user', 'add', 'bea', '--password-stdin'], {
      cwd: ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let said = ''
    add.stdout!.on('data', (d) => (said += d))
    add.stderr!.on('data', (d) => (said += d))
    add.stdin!.end('bea-walks-the-readme\n')
    const code = await new Promise<number | null>((resolve) => add.on('exit', resolve))
    expect(code, said).toBe(0)

    const context = await browser.newContext()
    const page = await context.newPage()
    await arrive(page, 'bea', 'bea-walks-the-readme')
    expect(await runOnePlusOne(context, page, 'bea')).toBe('2')
    await context.close()
  }, 180_000)
})
