// The images (deploy/images/{hub,proxy}/Dockerfile), checked without building them: these machines
// cannot pull the base images (no registry). What is checked: every COPY source exists in the
// build context (the checkout), stages copy only from earlier stages, base images are pinned, the
// final stage runs as an unprivileged user, ENTRYPOINT and CMD name the installed program and one of
// its commands, the proxy's `nginx` is OpenResty's, and each HEALTHCHECK command, run as it is
// written, passes against a running hub and proxy and fails against a closed port. What the
// package holds (`npm pack`, installed with production dependencies only) is test/e2e/package's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../../../runtime/src/ports'
import { ROOT, startStack, type Stack } from '../../support/stack'
import { copyParts, execForm, readDockerfile } from './dockerfile'

const run = promisify(execFile)
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const INSTALLED_BIN = '/opt/edgehub/node_modules/edgehub/bin/edgehub.js'

const images = {
  hub: { command: 'hub', port: 8081 },
  proxy: { command: 'proxy', port: 8000 },
} as const

for (const [name, want] of Object.entries(images)) {
  describe(`deploy/images/${name}/Dockerfile`, () => {
    const file = join(ROOT, 'deploy/images', name, 'Dockerfile')
    const { stages } = readDockerfile(file)
    const final = stages[stages.length - 1]!
    const last = (op: string) => final.instructions.filter((i) => i.op === op).pop()

    it('copies only files that exist in the checkout, and from earlier stages only', () => {
      let copies = 0
      stages.forEach((stage, i) => {
        for (const ins of stage.instructions.filter((x) => x.op === 'COPY' || x.op === 'ADD')) {
          expect(ins.op, `line ${ins.line}: COPY, not ADD`).toBe('COPY')
          const { from, sources } = copyParts(ins.args)
          copies++
          if (from) {
            const earlier = stages.slice(0, i).map((s) => s.name)
            expect(earlier, `line ${ins.line}: --from=${from}`).toContain(from)
            continue
          }
          for (const src of sources) expect(existsSync(join(ROOT, src)), `line ${ins.line}: ${src}`).toBe(true)
        }
      })
      expect(copies).toBeGreaterThan(5)
    })

    it('gets a build context without local builds, dependencies or secrets (.dockerignore)', () => {
      const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
      for (const p of ['node_modules', '**/dist', '.git', 'data', 'deploy/compose/secrets'])
        expect(ignored).toContain(p)
      // and nothing a COPY needs is ignored
      for (const ins of stages.flatMap((s) => s.instructions).filter((i) => i.op === 'COPY')) {
        const { from, sources } = copyParts(ins.args)
        if (!from) for (const src of sources) expect(ignored, src).not.toContain(src.replace(/\/$/, ''))
      }
    })

    it('builds from pinned Debian 12 base images', () => {
      for (const s of stages) {
        if (stages.some((o) => o.name === s.image)) continue // FROM an earlier stage
        expect(s.image, 'a tag').toMatch(/^[a-z0-9./-]+:[A-Za-z0-9._-]+$/)
        expect(s.image).not.toMatch(/:latest$/)
        expect(s.image, 'a version in the tag').toMatch(/:\d+(\.\d+)+/)
        expect(s.image, 'Debian 12, as the node binary copied between stages needs').toMatch(/-bookworm(-slim)?$/)
      }
      const node = stages.find((s) => s.image.startsWith('node:'))!.image
      const [major, minor] = (/:(\d+)\.(\d+)/.exec(node) ?? []).slice(1).map(Number)
      const [wantMajor, wantMinor] = (/>=(\d+)\.(\d+)/.exec(pkg.engines.node) ?? []).slice(1).map(Number)
      expect(
        major! > wantMajor! || (major === wantMajor && minor! >= wantMinor!),
        `${node} vs ${pkg.engines.node}`,
      ).toBe(true)
      if (name === 'proxy') expect(final.image).toMatch(/^openresty\/openresty:\d+\.\d+\.\d+\.\d+-bookworm$/)
    })

    it('runs as an unprivileged user, set after the last RUN', () => {
      const user = last('USER')
      expect(user, 'a USER instruction').toBeDefined()
      expect(user!.args).not.toMatch(/^(root|0)(:|$)/)
      expect(user!.args).toMatch(/^[1-9]\d{3,}:[1-9]\d{3,}$/)
      const lastRun = last('RUN')
      expect(user!.line).toBeGreaterThan(lastRun?.line ?? 0)
    })

    it(`ENTRYPOINT and CMD run the installed program's "${want.command}" command`, async () => {
      const entry = execForm(last('ENTRYPOINT')!.args)
      const cmd = execForm(last('CMD')!.args)
      expect(entry).toEqual(['node', INSTALLED_BIN])
      expect(cmd).toEqual([want.command])
      // what `npm install` of the package puts there: bin/edgehub.js is in the package's files
      expect(pkg.files).toContain('bin/edgehub.js')
      expect(pkg.bin.edgehub).toBe('bin/edgehub.js')
      for (const part of ['control-plane/dist/', 'proxy/conf/', 'proxy/lua/', 'runtime/dist/'])
        expect(pkg.files).toContain(part)
      // and the command is one the program has
      const usage = await run('node', [join(ROOT, 'bin/edgehub.js'), 'no-such-command'], { cwd: ROOT }).catch(
        (e: { stderr: string; stdout: string }) => `${e.stderr}${e.stdout}`,
      )
      expect(String(usage)).toMatch(new RegExp(`^\\s+${want.command}\\s`, 'm'))
    })

    it('declares where its configuration comes from', () => {
      const env = final.instructions
        .filter((i) => i.op === 'ENV')
        .map((i) => i.args)
        .join(' ')
      expect(env).toContain('EDGEHUB_CONFIG=/etc/edgehub/edgehub.yaml')
      expect(env).toContain('EDGEHUB_DATA_DIR=/var/lib/edgehub')
      expect(last('EXPOSE')!.args).toBe(String(want.port))
      if (name === 'proxy') {
        // the runner starts `nginx`: OpenResty's must come first on the PATH
        const path = /PATH=(\S+)/.exec(env)![1]!.split(':')
        expect(path[0]).toBe('/usr/local/openresty/nginx/sbin')
        expect(env).toContain('EDGEHUB_PROXY_RUN_DIR=/var/lib/edgehub/proxy')
      }
    })
  })
}

describe("the images' HEALTHCHECK commands, run as written", () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(() => stack?.stop())

  const healthcheck = (name: string) => {
    const { stages } = readDockerfile(join(ROOT, 'deploy/images', name, 'Dockerfile'))
    const ins = stages[stages.length - 1]!.instructions.filter((i) => i.op === 'HEALTHCHECK').pop()!
    const m = /^((?:--\S+\s+)*)CMD\s+(\[.*\])$/.exec(ins.args)
    expect(m, ins.args).not.toBeNull()
    const flags = m![1]!
    expect(flags).toMatch(/--interval=\d+s/)
    expect(flags).toMatch(/--timeout=\d+s/)
    return execForm(m![2]!) as string[]
  }
  const exitOf = (argv: string[], env: Record<string, string>) =>
    run(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, timeout: 20_000 }).then(
      () => 0,
      (e: { code?: number }) => e.code ?? -1,
    )

  it('hub: passes against a healthy hub, fails against a closed port', async () => {
    const argv = healthcheck('hub')
    expect(argv.join(' ')).toContain('/hub/health')
    const port = String(new URL(stack.hubUrls[0]!).port)
    expect(await exitOf(argv, { EDGEHUB_HUB_PORT: port })).toBe(0)
    expect(await exitOf(argv, { EDGEHUB_HUB_PORT: String(await freePort()) })).toBe(1)
  })

  it('proxy: passes against a synced proxy, fails against a closed port', async () => {
    const argv = healthcheck('proxy')
    expect(argv.join(' ')).toContain('/_edgehub/proxy/health')
    const port = String(new URL(stack.proxyUrls[0]!).port)
    expect(await exitOf(argv, { EDGEHUB_PORT: port })).toBe(0)
    expect(await exitOf(argv, { EDGEHUB_PORT: String(await freePort()) })).toBe(1)
  })
})
