// edgehub as operators get it: `npm pack` in the checkout, `npm install` of the tarball in an empty
// folder outside it, `npx edgehub up --config FILE` from there. And the checkout's bin/edgehub.js
// started from a folder outside the checkout, where the hub once compiled its pages' JSX with the
// settings of the working directory (none) and every page answered 500 "React is not defined".
import { afterAll, describe, expect, it } from 'vitest'
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { stringify } from 'yaml'
import { BIN, ROOT } from '../../support/stack'
import { Client } from '../../support/client'
import { alive, descendants } from '../up/support'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'

const run = promisify(execFile)
const dirs: string[] = []
const started: ChildProcess[] = []
afterAll(() => {
  for (const p of started) {
    if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) continue
    for (const pid of [p.pid, ...descendants(p.pid)]) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
  }
  if (!process.env.KEEP_TEST_DIRS) for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  dirs.push(dir)
  return dir
}

/**
 * The environment of a shell outside the checkout: no EDGEHUB_* settings, none of the npm_*
 * variables that `npm exec vitest` sets (npm_config_local_prefix would point npm at the checkout),
 * and no node_modules/.bin of the checkout on PATH.
 */
function outsideEnv(): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_') && !/^npm_/i.test(k)),
  ) as Record<string, string>
  env.PATH = (env.PATH ?? '')
    .split(':')
    .filter((d) => !d.includes('node_modules'))
    .join(':')
  return env
}

/** An edgehub.yaml on free ports with its data directory beside it. */
async function writeConfig(dir: string): Promise<{ file: string; url: string }> {
  const [port, hubPort, redisPort] = await Promise.all([freePort(), freePort(), freePort()])
  const file = join(dir, 'edgehub.yaml')
  writeFileSync(
    file,
    stringify({
      port,
      dataDir: join(dir, 'data'),
      hub: { port: hubPort },
      redis: { port: redisPort },
      proxy: { workers: 1 },
      auth: { native: { scryptCost: 1024 } },
    }),
  )
  return { file, url: `http://127.0.0.1:${port}` }
}

interface Running {
  proc: ChildProcess
  output(): string
  /** Resolves once every process holding its output has closed it (all output read). */
  closed: Promise<void>
}

/** Starts command in cwd as its own process group (a shell's job); resolves once the stack runs. */
async function startUp(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Running> {
  const proc = spawn(command, args, {
    cwd,
    env: { ...outsideEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  started.push(proc)
  let out = ''
  proc.stdout!.on('data', (d) => (out += d))
  proc.stderr!.on('data', (d) => (out += d))
  const closed = new Promise<void>((resolve) => proc.once('close', () => resolve()))
  await waitFor(
    'edgehub up to say it is running, or to exit',
    () => out.includes('Press Ctrl-C to stop') || proc.exitCode !== null,
    { timeoutMs: 60_000 },
  )
  expect(out, out).toContain('edgehub is running at')
  return { proc, output: () => out, closed }
}

/** Logs in as the printed first admin; the pages a logged-in admin reaches answer 200 with HTML. */
async function expectPagesServed(url: string, output: string): Promise<void> {
  const password = output.match(/log in as "admin" with password: (\S+)/)?.[1]
  expect(password, output).toBeTruthy()
  const admin = new Client(url)
  const login = await admin.login('admin', password!)
  expect(login.status).toBe(302)
  for (const path of ['/hub/home', '/hub/token', '/hub/admin']) {
    const res = await admin.get(path)
    const body = await res.text()
    expect({ path, status: res.status }).toEqual({ path, status: 200 })
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(body).toMatch(/^(<!DOCTYPE html>)?<html/i)
    expect(body).toContain('admin')
  }
}

/**
 * Stops the stack as a terminal's Ctrl-C or systemd's stop of the unit would, by signalling its
 * process group (npx runs the program under `npm exec` and `sh -c`, and a SIGTERM to npm's pid alone
 * stops the shell, not the program), and checks that every process it started is gone.
 */
async function stopAndExpectNothingLeft(r: Running, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const tree = descendants(r.proc.pid!)
  expect(tree.length).toBeGreaterThanOrEqual(3) // at least Redis, the hub and the nginx master
  process.kill(-r.proc.pid!, signal)
  await waitFor('the stack to exit', () => r.proc.exitCode !== null || r.proc.signalCode !== null, {
    timeoutMs: 30_000,
  })
  await waitFor('every process of the stack to be gone', () => tree.every((p) => !alive(p)), { timeoutMs: 10_000 })
  // npm may exit before the program it ran: its last words are read once the pipes close
  let closed = false
  void r.closed.then(() => (closed = true))
  await waitFor("the stack's output to close", () => closed, { timeoutMs: 10_000 })
  expect(r.output()).toContain('edgehub: stopped')
}

describe('edgehub installed from its npm pack tarball', () => {
  it('ships the compiled program without sources or tests, and serves the pages from an empty folder', async () => {
    const packDir = tempDir('edgehub-pack-')
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packDir], {
      cwd: ROOT,
      env: outsideEnv(),
      maxBuffer: 16 << 20,
    })
    const [pack] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{
      filename: string
      files: Array<{ path: string }>
    }>
    const files = pack.files.map((f) => f.path)
    for (const f of [
      'bin/edgehub.js',
      'runtime/dist/wait.js',
      'control-plane/dist/cli.js',
      'control-plane/dist/pages/home.js',
      'proxy/dist/render.js',
      'proxy/conf/nginx.conf.tmpl',
      'proxy/lua/edgehub/access.lua',
      'spawners/dist/local-process/launcher.mjs',
      'package.json',
    ]) {
      expect(files).toContain(f)
    }
    expect(
      files.filter(
        (f) =>
          /\.tsx?$/.test(f) ||
          /^(test|bench|scripts|node_modules)\//.test(f) ||
          f.includes('/src/') ||
          f.includes('spec/'),
      ),
    ).toEqual([])

    const home = tempDir('edgehub-installed-')
    writeFileSync(join(home, 'package.json'), '{ "private": true }\n')
    await run(
      'npm',
      ['install', join(packDir, pack.filename), '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
      { cwd: home, env: outsideEnv() },
    )
    for (const dev of ['tsx', 'typescript', 'esbuild', 'vitest'])
      expect(existsSync(join(home, 'node_modules', dev)), dev).toBe(false)

    const { file, url } = await writeConfig(home)
    const stack = await startUp('npx', ['edgehub', 'up', '--config', file], home)
    expect(stack.output()).toContain(`edgehub is running at ${url}/`)
    await expectPagesServed(url, stack.output())
    await stopAndExpectNothingLeft(stack)
  }, 180_000)
})

describe('bin/edgehub.js in the checkout', () => {
  // the sources through tsx (the hub once compiled its JSX for React there), and the checkout's build
  it.each<[string, Record<string, string>]>([
    ['the sources', { EDGEHUB_SOURCES: '1' }],
    ['the build', {}],
  ])('serves the pages from %s when started from a folder outside the checkout', async (_, env) => {
    if (!env.EDGEHUB_SOURCES)
      expect(spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale']).status).toBe(0) // current
    const elsewhere = tempDir('edgehub-cwd-')
    const { file, url } = await writeConfig(elsewhere)
    const stack = await startUp(process.execPath, [BIN, 'up', '--config', file], elsewhere, env)
    await expectPagesServed(url, stack.output())
    await stopAndExpectNothingLeft(stack)
  })
})
