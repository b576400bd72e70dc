// The sudo spawner's boundary on real parts (test/support/sudo.ts): an unprivileged hub account whose
// only sudo rule runs the mediator as members of one group. Its servers run as the user, in the
// user's home; the hub account can run nothing else as anyone, and the mediator refuses whatever its
// own root-owned configuration does not allow (commands, arguments, environment, processes to signal).
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync, chownSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSudoSpawner } from '../../../spawners/src/sudo'
import { SPAWNERS, type Spawner, type SpawnerState } from '../../../spawners/src'
import { waitFor } from '../../../runtime/src/wait'
import { CONTRACT_SERVER } from '../../contracts/spawner-contract'
import { spawnRequest } from '../../support/spawn-request'
import { sudoSkipReason, setUpSudo, type SudoSetup } from '../../support/sudo'
import { addAccount, passwd } from '../../support/accounts'

const quiet = { info() {}, warn() {} }

describe.skipIf(!!sudoSkipReason)(
  `sudo spawner on real sudo${sudoSkipReason ? ` (skipped: ${sudoSkipReason})` : ''}`,
  () => {
    let setup: SudoSetup
    let spawner: Spawner
    let logs: string
    let ada: { name: string; uid: number; home: string }
    const started: SpawnerState[] = []

    /** Runs one mediator request as the hub account through sudo, as the spawner does; status and answer. */
    const asHub = (sudoArgs: string[], request: unknown) => {
      const [cmd, ...args] = setup.sudoAsHub
      const r = spawnSync(cmd, [...args, ...sudoArgs], {
        input: JSON.stringify(request),
        encoding: 'utf8',
        timeout: 20_000,
      })
      return { status: r.status, out: r.stdout.trim(), err: r.stderr.trim() }
    }
    const mediate = (account: string, request: unknown) => asHub(['-n', '-u', account, ...setup.mediator], request)

    beforeAll(() => {
      setup = setUpSudo()
      ada = setup.addUser('ada')
      logs = mkdtempSync(join(tmpdir(), 'edgehub-sudo-'))
      const settings = SPAWNERS.sudo.settings.parse({
        mediator: setup.mediator,
        command: ['/usr/bin/python3', '-c', CONTRACT_SERVER],
        args: ['{ip}', '{port}'],
        userPrefix: setup.prefix,
      })
      spawner = createSudoSpawner({ ...settings, log: quiet, sudo: setup.sudoAsHub })
    }, 60_000)
    afterAll(async () => {
      for (const s of started) await spawner.stop(s, { graceMs: 1_000 }).catch(() => {})
      rmSync(logs, { recursive: true, force: true })
      setup?.cleanup()
    }, 60_000)

    const request = (user: string) =>
      spawnRequest({ user, hubId: 'sudo-test', token: 'sudo-test-token', logFile: join(logs, `${user}.log`) })

    it("runs the server as the user's account, in the user's home, with only the allowed environment", async () => {
      const state = await spawner.start(request('ada'), AbortSignal.timeout(30_000))
      started.push(state)
      expect(state.account).toBe(ada.name)
      const pid = Number(state.pid)
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      expect(/^Uid:\s+(\d+)\s+(\d+)/m.exec(status)?.slice(1)).toEqual([String(ada.uid), String(ada.uid)])
      expect(readlinkSync(`/proc/${pid}/cwd`)).toBe(ada.home)
      const env = new Map(
        readFileSync(`/proc/${pid}/environ`, 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const),
      )
      expect(env.get('HOME')).toBe(ada.home)
      expect(env.get('USER')).toBe(ada.name)
      expect(env.get('JUPYTERHUB_API_TOKEN')).toBe('sudo-test-token')
      expect(env.get('EDGEHUB_HUB_ID')).toBe('sudo-test')
      expect(
        [...env.keys()].filter(
          (k) => !/^(JUPYTERHUB_|EDGEHUB_HUB_ID$|PATH$|HOME$|USER$|LOGNAME$|SHELL$|LANG$|LC_)/.test(k),
        ),
      ).toEqual([])
      const running = await waitFor('the server to run', async () => {
        const s = await spawner.poll(state)
        return s.phase === 'running' ? s : undefined
      })
      await waitFor(
        'the server to answer',
        async () => (await fetch(running.url).catch(() => undefined))?.status === 200,
      )
      await spawner.stop(state, { graceMs: 5_000 })
      expect((await spawner.poll(state)).phase).toBe('stopped')
    })

    it('refuses a user without an account, saying what the administrator does', async () => {
      await expect(spawner.start(request('nobodyhere'), AbortSignal.timeout(30_000))).rejects.toThrow(
        /no Unix account .*useradd/,
      )
    })

    it('lets the hub account run nothing but the mediator, and only as members of the group', () => {
      // another command as the user
      expect(asHub(['-n', '-u', ada.name, '/bin/sh', '-c', 'id'], {}).status).not.toBe(0)
      // the mediator as root, or as an account outside the group
      expect(asHub(['-n', '-u', 'root', ...setup.mediator], { op: 'poll', pid: 2, startTime: '0' }).status).not.toBe(0)
      addAccount(`${setup.prefix}outside`)
      expect(mediate(`${setup.prefix}outside`, { op: 'poll', pid: 2, startTime: '0' }).status).not.toBe(0)
      // the mediator with a configuration of the hub's choosing
      const own = join(passwd(setup.hub.name).home, 'mediator.json')
      writeFileSync(own, JSON.stringify({ servers: [{ argv: ['/bin/sh'], args: ['.*'] }] }))
      chownSync(own, setup.hub.uid, setup.hub.gid)
      const r = asHub(['-n', '-u', ada.name, setup.mediator[0], '--config', own], {
        op: 'spawn',
        argv: ['/bin/sh', '-c', 'id'],
        env: {},
      })
      expect(r.status).not.toBe(0)
      expect(r.out).toBe('')
      // the rule itself works: a poll as the user is answered
      expect(JSON.parse(mediate(ada.name, { op: 'poll', pid: 2, startTime: '0' }).out)).toEqual({ running: false })
    })

    it('has the mediator refuse commands, arguments and environment its configuration does not allow', () => {
      const refused = (request: unknown) => {
        const r = mediate(ada.name, request)
        expect(r.status).toBe(1)
        return JSON.parse(r.out).error as string
      }
      const server = ['/usr/bin/python3', '-c', CONTRACT_SERVER]
      expect(refused({ op: 'spawn', argv: ['/bin/sh', '-c', 'id'], env: {} })).toMatch(/command not allowed/)
      expect(refused({ op: 'spawn', argv: ['/usr/bin/python3', '-c', 'print(1)'], env: {} })).toMatch(
        /command not allowed/,
      )
      expect(refused({ op: 'spawn', argv: [...server, '127.0.0.1', '8888', '--extra'], env: {} })).toMatch(
        /command not allowed/,
      )
      expect(
        refused({ op: 'spawn', argv: [...server, '127.0.0.1', '8888'], env: { LD_PRELOAD: '/tmp/x.so' } }),
      ).toMatch(/LD_PRELOAD/)
      expect(
        refused({ op: 'spawn', argv: [...server, '127.0.0.1', '8888'], env: { PYTHONSTARTUP: '/tmp/x.py' } }),
      ).toMatch(/PYTHONSTARTUP/)
      expect(refused({ op: 'spawn', argv: [...server, '127.0.0.1', '8888'], env: { SOMETHING: 'x' } })).toMatch(
        /SOMETHING/,
      )
      // a glob (JUPYTERHUB_*) does not allow the variables that choose what jupyterhub-singleuser imports
      expect(
        refused({
          op: 'spawn',
          argv: [...server, '127.0.0.1', '8888'],
          env: { JUPYTERHUB_SINGLEUSER_APP: 'os.system' },
        }),
      ).toMatch(/JUPYTERHUB_SINGLEUSER_APP/)
      expect(refused({ op: 'exec', argv: ['/bin/sh'] })).toMatch(/unknown operation/)
      expect(refused({ op: 'kill', pid: 2, startTime: '0', signal: 'SIGSTOP' })).toMatch(/SIGTERM or SIGKILL/)
    })

    it("has the mediator signal only the account's servers, not its other processes", async () => {
      // a process of ada's that is not a server (no hub mark), started by root as ada
      const other = spawn(
        '/usr/bin/setpriv',
        [`--reuid=${ada.uid}`, `--regid=${ada.uid}`, '--init-groups', '/bin/sleep', '60'],
        {
          stdio: 'ignore',
          env: { PATH: '/usr/bin:/bin' },
        },
      )
      try {
        const pid = await waitFor('sleep to run as ada', async () => {
          const st = readFileSync(`/proc/${other.pid}/status`, 'utf8')
          return /^Name:\s+sleep/m.test(st) ? other.pid : undefined
        })
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
        const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
        const r = mediate(ada.name, { op: 'kill', pid, startTime, signal: 'SIGKILL' })
        expect(JSON.parse(r.out).error).toMatch(/not a server of this account/)
        expect(other.exitCode).toBe(null)
      } finally {
        other.kill('SIGKILL')
      }
    })

    it('refuses a configuration anyone but root could change', () => {
      const dir = mkdtempSync(join(tmpdir(), 'edgehub-mediator-conf-'))
      try {
        const conf = join(dir, 'conf.json')
        writeFileSync(conf, JSON.stringify({ servers: [{ argv: ['/bin/sh'] }] }), { mode: 0o644 })
        chownSync(conf, ada.uid, ada.uid)
        execFileSync('chmod', ['755', dir])
        const r = spawnSync(
          '/usr/bin/setpriv',
          [`--reuid=${ada.uid}`, `--regid=${ada.uid}`, '--init-groups', setup.mediator[0], '--config', conf],
          { input: JSON.stringify({ op: 'spawn', argv: ['/bin/sh'], env: {} }), encoding: 'utf8' },
        )
        expect(r.status).toBe(1)
        expect(JSON.parse(r.stdout).error).toMatch(/not owned by root/)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  },
)
