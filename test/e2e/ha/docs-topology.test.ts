// docs/high-availability.md followed as written, the whole topology: the Redis + Sentinel group of
// its `docs-test` blocks, its example edgehub.yaml (Sentinel form of `redis:`), two `edgehub hub` and
// two `edgehub proxy` replicas started with its commands, the first user made with its
// `edgehub user add`, and HAProxy from deploy/haproxy/haproxy.cfg started as it says. Each documented
// machine is a directory of its own holding the shared edgehub.yaml; every address is mapped to a
// free loopback port. Then, through HAProxy's address: the hub's and the proxies' health, a login,
// and the hub API again after the Redis master is killed and the sentinels fail over. Every process
// is a child of this one, stopped by pid.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startChild, type Child } from '../../../runtime/src/child'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'
import { Client, json } from '../../support/client'
import { BIN, ROOT } from '../../support/stack'
import { block, commandLines, sh, startSentinelGroup, waitForFailover, type SentinelGroup } from './docs-blocks'

// The documented machines of the topology: hubs 10.0.0.21-22 (port 8081), proxies 10.0.0.11-12 (8000).
const HUB_HOSTS = ['10.0.0.21', '10.0.0.22']
const PROXY_HOSTS = ['10.0.0.11', '10.0.0.12']

/** `VAR=value … program args…` as the doc writes a command line. */
function parseCommand(line: string): { env: Record<string, string>; program: string; args: string[] } {
  const words = line.trim().split(/\s+/)
  const env: Record<string, string> = {}
  while (/^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [k, ...v] = words.shift()!.split('=')
    env[k] = v.join('=')
  }
  const [program, ...args] = words
  return { env, program, args }
}

describe('docs/high-availability.md: two hubs, two proxies, HAProxy and Sentinel', () => {
  let dir: string
  let group: SentinelGroup
  let haUrl: string
  let password: string
  const children: Child[] = []
  // the environment of an operator's shell: none of this test runner's EDGEHUB_ settings
  const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))

  /** An `edgehub` command line of the doc, run on a documented machine (its directory). */
  const edgehub = (line: string, machine: string, portFor: (documented: string) => number) => {
    const { env, program, args } = parseCommand(line)
    if (program !== 'edgehub') throw new Error(`docs/high-availability.md: expected an edgehub command, got: ${line}`)
    for (const k of Object.keys(env)) if (/PORT$/.test(k)) env[k] = String(portFor(env[k]))
    return { command: process.execPath, args: [BIN, ...args], env: { ...baseEnv, ...env }, cwd: join(dir, machine) }
  }

  /** The end of each hub's log, for a failure message. */
  const hubLogTails = (lines: number) =>
    HUB_HOSTS.map((h) => {
      const log = readFileSync(join(dir, h, 'hub.log'), 'utf8').split('\n')
      return `${h}:\n${log.slice(-lines).join('\n')}`
    }).join('\n---\n')

  /** Logs alice in through HAProxy; anything but the 302 fails with the page's words and the hubs' logs. */
  const expectLogin = async (client: Client) => {
    const res = await client.postForm('/hub/login', { username: 'alice', password })
    const page = await res.text()
    if (res.status === 302) return
    // the login form's alert, or an error page's first paragraph
    const said = (/role="alert">([^<]*)</.exec(page) ?? /<p>([^<]*)<\/p>/.exec(page))?.[1] ?? page.slice(0, 300)
    expect.fail(`login answered ${res.status} (${said.trim()}), expected 302\n${hubLogTails(15)}`)
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgehub-docs-topology-'))
    group = await startSentinelGroup(dir)
    const hubPorts = [await freePort(), await freePort()]
    const proxyPorts = [await freePort(), await freePort()]
    const haPort = await freePort()
    haUrl = `http://127.0.0.1:${haPort}`

    // edgehub.yaml as documented, with Sentinel's form of redis: and loopback addresses
    const yaml = block('edgehub.yaml')
      .replaceAll('PASSWORD', group.password)
      .replace(/^publicUrl: .*$/m, `publicUrl: ${haUrl}`)
      .replace(/^(\s*)host: 0\.0\.0\.0/gm, '$1host: 127.0.0.1')
      .replace(/^\s*url: redis:\/\/.*\n/m, '') // the standalone url; the Sentinel lines below replace it
      .replace(/^(\s*)# (url|sentinel): /gm, '$1$2: ')
      .replace(/"(10\.0\.0\.\d+):(26379)"/g, (_, h: string, p: string) => `"127.0.0.1:${group.portOf(h, p)}"`)
      .replace(/"(10\.0\.0\.\d+):8081"/g, (_, h: string) => `"127.0.0.1:${hubPorts[HUB_HOSTS.indexOf(h)]}"`)
      .replace(/trustedProxies: \["10\.0\.0\.2"\]/, 'trustedProxies: ["127.0.0.1"]') // HAProxy, here on loopback
    expect(yaml).toMatch(
      /sentinel: \{ hosts: \["127\.0\.0\.1:\d+", "127\.0\.0\.1:\d+", "127\.0\.0\.1:\d+"\], masterName: mymaster \}/,
    )
    expect(yaml).not.toMatch(/10\.0\.0\./)
    for (const m of [...HUB_HOSTS, ...PROXY_HOSTS]) {
      mkdirSync(join(dir, m))
      writeFileSync(join(dir, m, 'edgehub.yaml'), yaml, { mode: 0o600 })
    }

    // the replicas, with the doc's commands, each on its machine
    const [hubLine, proxyLine] = commandLines(block('replicas'))
    expect(hubLine).toMatch(/edgehub hub$/)
    expect(proxyLine).toMatch(/edgehub proxy$/)
    await waitFor(
      'the sentinels to name the master',
      async () =>
        (await sh(group.checkLine(/get-master-addr-by-name/)).catch(() => '')) === `127.0.0.1\n${group.redisPorts[0]}`,
      { timeoutMs: 15_000 },
    )
    HUB_HOSTS.forEach((h, i) => {
      const c = edgehub(hubLine, h, (p) => (p === '8081' ? hubPorts[i] : Number.NaN))
      children.push(startChild({ name: `hub${i}`, ...c, logFile: join(dir, h, 'hub.log') }))
    })
    PROXY_HOSTS.forEach((h, i) => {
      const c = edgehub(proxyLine, h, (p) => (p === '8000' ? proxyPorts[i] : Number.NaN))
      children.push(startChild({ name: `proxy${i}`, ...c, logFile: join(dir, h, 'proxy.log') }))
    })

    // the first user, made on a hub machine with the doc's command
    const [userLine] = commandLines(block('first-user'))
    const u = edgehub(userLine, HUB_HOSTS[0], () => Number.NaN)
    const out = await new Promise<string>((resolve, reject) =>
      execFile(u.command, u.args, { cwd: u.cwd, env: u.env, timeout: 20_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${userLine}: ${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    )
    password = /^password: (\S+)$/m.exec(out)?.[1] ?? ''
    expect(out, out).toMatch(/^created user alice \(admin\)$/m)

    // HAProxy: the shipped file with its two server lines replaced and bind on a free port
    const haDir = join(dir, 'lb')
    mkdirSync(haDir)
    const shipped = readFileSync(join(ROOT, 'deploy/haproxy/haproxy.cfg'), 'utf8')
    const cfg = shipped
      .replace(/^(\s*)bind :80$/m, `$1bind 127.0.0.1:${haPort}`)
      .replace(
        /^(\s*server \S+ )(10\.0\.0\.\d+):8000/gm,
        (_, pre: string, h: string) => `${pre}127.0.0.1:${proxyPorts[PROXY_HOSTS.indexOf(h)]}`,
      )
    expect(cfg).toContain(`bind 127.0.0.1:${haPort}`)
    expect(cfg.match(/^\s*server .*127\.0\.0\.1:\d+ check$/gm)).toHaveLength(2)
    writeFileSync(join(haDir, 'haproxy.cfg'), cfg)
    const ha = parseCommand(commandLines(block('haproxy'))[0])
    children.push(
      startChild({
        name: 'haproxy',
        command: ha.program,
        args: ha.args,
        cwd: haDir,
        env: baseEnv,
        logFile: join(haDir, 'haproxy.log'),
      }),
    )

    /** Waits for a replica's health URL; on a timeout the error carries the end of its log. */
    const healthy = (what: string, url: string, log: string) =>
      waitFor(what, async () => (await fetch(url).catch(() => null))?.ok, { timeoutMs: 20_000 }).catch((e: Error) => {
        throw new Error(`${e.message}; its log ends:\n${readFileSync(log, 'utf8').split('\n').slice(-20).join('\n')}`)
      })
    for (const [k, port] of hubPorts.entries())
      await healthy(`hub ${k} to be healthy`, `http://127.0.0.1:${port}/hub/health`, join(dir, HUB_HOSTS[k], 'hub.log'))
    for (const [k, port] of proxyPorts.entries())
      await healthy(
        `proxy ${k} to be healthy`,
        `http://127.0.0.1:${port}/_edgehub/proxy/health`,
        join(dir, PROXY_HOSTS[k], 'proxy.log'),
      )
    await waitFor(
      'HAProxy to reach the proxies',
      async () => (await fetch(`${haUrl}/_edgehub/proxy/health`).catch(() => null))?.ok,
      { timeoutMs: 15_000 },
    )
  }, 45_000)

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop(5000)))
    await group?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, 20_000)

  it("HAProxy answers the hub health, the proxies' health, and a login with the first user", async () => {
    const hub = await fetch(`${haUrl}/hub/health`)
    expect(hub.status).toBe(200)
    expect(await json(hub)).toMatchObject({ status: 'ok', leader: expect.any(Boolean) })
    const proxy = await fetch(`${haUrl}/_edgehub/proxy/health`)
    expect(proxy.status).toBe(200)
    expect(await json(proxy)).toMatchObject({ redis: 'connected' })

    expect(password).not.toBe('')
    const browser = new Client(haUrl)
    await expectLogin(browser)
    const me = await browser.api('GET', '/user')
    expect(me.status).toBe(200)
    expect(await json(me)).toMatchObject({ name: 'alice', admin: true })
    expect((await new Client(haUrl).login('alice', 'not-the-password')).status).not.toBe(302)
  }, 15_000)

  it('after kill -9 of the Redis master the sentinels promote the replica and the hub API answers again through HAProxy', async () => {
    const browser = new Client(haUrl)
    await expectLogin(browser)
    await waitFor(
      'the three sentinels to know each other',
      async () => /^OK 3 usable Sentinels/.test(await sh(group.checkLine(/ckquorum/)).catch(() => '')),
      { timeoutMs: 15_000 },
    )
    const replication = group.checkLine(/INFO replication/)
    await waitFor('the replica to follow the master', async () => (await sh(replication)) === 'master_link_status:up', {
      timeoutMs: 10_000,
    })

    const master = group.children[0]
    const killedAt = Date.now()
    master.proc.kill('SIGKILL')
    await master.exited
    // down-after-milliseconds plus the election (or, when votes split, more: see waitForFailover)
    await waitForFailover(group, dir, killedAt)
    // the session made before the failover still works, and a new login (a write) succeeds
    let last = ''
    await waitFor(
      'the hub API to answer through HAProxy',
      async () => {
        const r = await browser.api('GET', '/user').catch((e: Error) => e)
        last = r instanceof Error ? r.message : `${r.status} ${(await r.text()).slice(0, 200)}`
        return last.startsWith('200 ')
      },
      { timeoutMs: 8000, intervalMs: 200 },
    ).catch((e: Error) => {
      throw new Error(`${e.message}; last answer: ${last}\n${hubLogTails(12)}`)
    })
    const again = new Client(haUrl)
    await expectLogin(again)
    expect((await again.api('GET', '/user')).status).toBe(200)
  }, 120_000)
})
