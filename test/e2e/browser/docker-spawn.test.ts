// A person's server in a Docker container, in Chromium: a real stack with spawner.kind docker (a real
// engine, test/support/docker.ts; host networking and loopback addresses, as these machines allow),
// log in through the form, the spawn-pending page, the real Jupyter server (jupyterhub-singleuser)
// running in the container reached through the proxy, 1+1 in a new notebook; the notebook is in the
// user's home volume after a stop and a start in a new container. Then Log out and stop: no
// container is left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { launchBrowser } from '../../support/browser'
import { startStack, type Stack } from '../../support/stack'
import { person, rootOf, stopServer, type Admin } from '../../support/people'
import {
  dockerEngine,
  dockerSkipReason,
  dockerSpawnerSettings,
  ownContainers,
  removeOwn,
  type DockerEngine,
} from '../../support/docker'

/** New → Python 3 in Jupyter's tree, 1+1 in the first cell; what the cell printed. */
async function runOnePlusOne(context: BrowserContext, tree: Page): Promise<string | null> {
  await tree.click('#new-dropdown-button')
  const [nb] = await Promise.all([context.waitForEvent('page'), tree.click('#kernel-python3 a')])
  await nb.waitForLoadState()
  await nb.waitForFunction('window.Jupyter?.notebook?.kernel?.is_connected?.()', null, { timeout: 30_000 })
  await nb.click('.CodeMirror')
  await nb.keyboard.type('1+1')
  await nb.keyboard.press('Shift+Enter')
  const out = nb.locator('.output_area .output_text pre').first()
  await out.waitFor({ timeout: 20_000 })
  const text = (await out.textContent())?.trim() ?? null
  // saved, so that the home volume has it
  await nb.keyboard.press('Control+s')
  await nb.waitForFunction('window.Jupyter?.notebook?.dirty === false', null, { timeout: 10_000 })
  await nb.close()
  return text
}

describe.skipIf(!!dockerSkipReason)(
  `a hub spawning Docker containers, in a browser${dockerSkipReason ? ` (skipped: ${dockerSkipReason})` : ''}`,
  () => {
    let engine: DockerEngine
    let stack: Stack
    let root: Admin
    let browser: Browser
    const prefix = `bt${process.pid % 10000}`
    const ours = () => ownContainers(engine, prefix)

    beforeAll(async () => {
      engine = await dockerEngine()
      stack = await startStack({
        spawner: dockerSpawnerSettings(engine, prefix, {
          cmd: ['/usr/bin/jupyterhub-singleuser'],
        }),
      })
      root = await rootOf(stack)
      browser = await launchBrowser()
    }, 180_000)
    afterAll(async () => {
      await browser?.close()
      await stack?.stop()
      if (!engine) return
      await removeOwn(engine, prefix)
    }, 60_000)

    it('logs in, spawns a container, lands in its Jupyter through the proxy and runs 1+1; the notebook outlives the container', async () => {
      const lea: Admin = await person(root, 'lea.m')
      const context = await browser.newContext()
      const page = await context.newPage()
      const visited: string[] = []
      page.on('framenavigated', (f) => f === page.mainFrame() && visited.push(new URL(f.url()).pathname))
      await page.goto(`${stack.url}/hub/login`)
      await page.fill('#username', lea.name)
      await page.fill('#password', lea.password)
      await page.click('#login_submit')
      await page.waitForURL(/\/user\/lea\.m\/tree/, { timeout: 90_000 })
      expect(visited).toContain('/hub/spawn-pending/lea.m')
      await page.locator('#notebook_list').getByText('The notebook list is empty.').waitFor() // a fresh home volume

      // the server runs in the container the spawner named for her (JupyterHub's escaping: . is -2e), as jovyan
      const [container] = await ours()
      expect(container?.Names).toEqual([`/${prefix}-lea-2em`])
      expect(container?.Labels['org.jupyter.edgehub.user']).toBe('lea.m')
      const top = await engine.docker.getContainer(container!.Id).top({ ps_args: '-o pid,uid,args' })
      expect(top.Processes.some((p: string[]) => p[1] === '1000' && p[2]?.includes('jupyterhub-singleuser'))).toBe(true)

      expect(await runOnePlusOne(context, page)).toBe('2')
      await page.reload()
      await page.locator('#notebook_list').getByText('Untitled.ipynb').waitFor()

      // stopped: the container goes; started again: a new container, the same home
      await stopServer(stack.url, lea.token, lea.name)
      expect(await ours()).toEqual([])
      await page.goto(`${stack.url}/hub/spawn/lea.m`)
      await page.waitForURL(/\/user\/lea\.m\/tree/, { timeout: 90_000 })
      await page.locator('#notebook_list').getByText('Untitled.ipynb').waitFor()
      const [again] = await ours()
      expect(again?.Id).not.toBe(container?.Id)

      await page.goto(`${stack.url}/hub/home`)
      await page.locator('header a', { hasText: 'Log out' }).click()
      await page.waitForURL(/\/hub\/login/)
      await stopServer(stack.url, lea.token, lea.name)
      expect(await ours()).toEqual([])
      await context.close()
    }, 240_000)
  },
)
