// The systemd spawner where no systemd is PID 1 (these machines): the exact systemd-run command
// lines and unit properties it generates (checked by systemd-analyze verify as a unit file), its
// environment file, its reading of recorded `systemctl show` output, the calls of a start, poll and
// stop (against recorded answers), and what the real systemd-run says here.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../../runtime/src/wait'
import type { SystemdCommands } from './commands'
import { realCommands } from './commands'
import { createSystemdSpawner } from './index'
import { systemdSettings } from './settings'
import { parseShow, unitStatus } from './show'
import { environmentFile, systemdRunArgs, unitFile, unitName } from './unit'

const defaults = systemdSettings.parse({})
const account = { name: 'jupyter-ada', home: '/home/jupyter-ada' }
const spec = {
  unit: 'jupyter-ada.service',
  account,
  envFile: '/var/lib/edgehub/systemd-units/jupyter-ada.service.env',
  argv: ['/usr/local/bin/jupyterhub-singleuser'],
}
const target = { ip: '127.0.0.1', port: 20001, baseUrl: '/user/ada/' }
const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('unit names', () => {
  it('escapes user and server names to a-z 0-9 _, so that no two servers share a unit', () => {
    expect(unitName('jupyter-', 'ada', '')).toBe('jupyter-ada.service')
    expect(unitName('jupyter-', 'Ada.B', 'gpu')).toBe('jupyter-_41da_2e_42-gpu.service')
    expect(unitName('jupyter-', 'a-b', '')).not.toBe(unitName('jupyter-', 'a', 'b'))
    expect(unitName('jupyter-', 'a-b', '')).toMatch(/^[a-z0-9_-]+\.service$/)
  })
})

describe('systemd-run command line', () => {
  it('starts a unit as the account, in its home, with the default sandbox and the environment in a file', () => {
    expect(systemdRunArgs(defaults, spec)).toEqual([
      '--unit=jupyter-ada.service',
      '--description=edgehub server jupyter-ada.service',
      '--quiet',
      '--property=Type=exec',
      '--property=EnvironmentFile=/var/lib/edgehub/systemd-units/jupyter-ada.service.env',
      '--property=WorkingDirectory=/home/jupyter-ada',
      '--property=User=jupyter-ada',
      '--property=PrivateTmp=yes',
      '--property=NoNewPrivileges=yes',
      '--property=ProtectSystem=strict',
      '--property=ProtectHome=read-only',
      '--property=ReadWritePaths=/home/jupyter-ada',
      '--',
      '/usr/local/bin/jupyterhub-singleuser',
    ])
  })

  it('sets limits, paths and a dynamic user when configured', () => {
    const s = systemdSettings.parse({
      memoryMax: 2 * 1024 ** 3,
      cpuQuotaPercent: 150,
      dynamicUsers: true,
      protectHome: 'tmpfs',
      privateTmp: false,
      noNewPrivileges: false,
      readOnlyPaths: ['/srv/data'],
      readWritePaths: ['/srv/scratch'],
    })
    const args = systemdRunArgs(s, { ...spec, account: undefined })
    expect(args.filter((a) => a.startsWith('--property=')).map((a) => a.slice(11))).toEqual([
      'Type=exec',
      'EnvironmentFile=/var/lib/edgehub/systemd-units/jupyter-ada.service.env',
      'WorkingDirectory=/var/lib/jupyter-ada',
      'DynamicUser=yes',
      'StateDirectory=jupyter-ada',
      'MemoryMax=2147483648',
      'CPUQuota=150%',
      'ProtectSystem=strict',
      'ProtectHome=tmpfs',
      'ReadOnlyPaths=/srv/data',
      'ReadWritePaths=/srv/scratch',
    ])
    // an account's home is bound into the empty /home of ProtectHome=tmpfs
    expect(systemdRunArgs(s, spec)).toContain('--property=BindPaths=/home/jupyter-ada')
  })

  it('refuses limits out of range, naming the setting', () => {
    expect(() => systemdSettings.parse({ memoryMax: 1000 })).toThrow(/memoryMax/)
    expect(() => systemdSettings.parse({ cpuQuotaPercent: 0 })).toThrow(/cpuQuotaPercent/)
    expect(() => systemdSettings.parse({ readWritePaths: ['relative'] })).toThrow(/readWritePaths/)
  })

  it.skipIf(!existsSync('/usr/bin/systemd-analyze'))(
    'gives properties systemd-analyze verify accepts as a unit file, and it would flag a bad one',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'edgehub-unit-'))
      dirs.push(dir)
      const verify = (text: string) => {
        const file = join(dir, 'edgehub-verify.service')
        writeFileSync(file, text)
        return spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' }).stderr.trim()
      }
      const s = systemdSettings.parse({
        memoryMax: 1024 ** 3,
        cpuQuotaPercent: 200,
        readOnlyPaths: ['/opt'],
        readWritePaths: ['/srv'],
      })
      const argv = ['/usr/bin/python3', '-c', 'print("a b")']
      expect(verify(unitFile(s, { ...spec, argv }))).toBe('')
      expect(verify(unitFile(systemdSettings.parse({ protectHome: 'tmpfs' }), { ...spec, argv }))).toBe('')
      expect(
        verify(unitFile(systemdSettings.parse({ dynamicUsers: true }), { ...spec, account: undefined, argv })),
      ).toBe('')
      expect(verify(unitFile(s, { ...spec, argv }).replace('CPUQuota=200%', 'CPUQuota=two'))).toMatch(/CPU quota/)
    },
  )
})

describe('environment file', () => {
  it('keeps every character of a value, and refuses a line break or a bad name', () => {
    expect(environmentFile({ A: 'x y', B: '["access:servers!server=ada/"]', C: "it's $HOME" })).toBe(
      `A='x y'\nB='["access:servers!server=ada/"]'\nC="it's \\$HOME"\n`,
    )
    expect(() => environmentFile({ A: 'x\ny' })).toThrow(/A: .*line break/)
    expect(() => environmentFile({ 'A-B': 'x' })).toThrow(/A-B/)
  })
})

describe('systemctl show, as recorded', () => {
  const show = (text: string, id = 'a1b2') => unitStatus(parseShow(text), id, target)
  it('reads a running unit as running at its address', () => {
    const running =
      'Result=success\nExecMainPID=4242\nExecMainStatus=0\nLoadState=loaded\nActiveState=active\nSubState=running\nInvocationID=a1b2\n'
    expect(show(running)).toEqual({
      phase: 'running',
      target: '127.0.0.1:20001',
      url: 'http://127.0.0.1:20001/user/ada/',
    })
  })
  it('reads a starting unit as pending', () => {
    expect(show('LoadState=loaded\nActiveState=activating\nSubState=start\nInvocationID=a1b2\n').phase).toBe('pending')
  })
  it('reads a failed unit as stopped with its exit status and result', () => {
    const failed =
      'Result=exit-code\nExecMainPID=0\nExecMainStatus=3\nLoadState=loaded\nActiveState=failed\nSubState=failed\nInvocationID=a1b2\n'
    expect(show(failed)).toEqual({ phase: 'stopped', exitCode: 3, reason: 'unit exit-code' })
    const oom =
      'Result=oom-kill\nExecMainStatus=9\nLoadState=loaded\nActiveState=failed\nSubState=failed\nInvocationID=a1b2\n'
    expect(show(oom)).toEqual({ phase: 'stopped', exitCode: 9, reason: 'unit oom-kill' })
  })
  it('reads a unit that is gone, or runs a later start, as this server stopped', () => {
    const gone =
      'Result=success\nExecMainPID=0\nExecMainStatus=0\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nInvocationID=\n'
    expect(show(gone)).toEqual({ phase: 'stopped', reason: 'unit gone' })
    const again = 'LoadState=loaded\nActiveState=active\nSubState=running\nInvocationID=ffff\n'
    expect(show(again)).toEqual({ phase: 'stopped', reason: 'unit started again' })
  })
})

/** Programs answered from a script of recorded outputs; every call kept. */
function recorded(answer: (program: string, args: string[]) => string) {
  const calls: string[][] = []
  const followers: Array<(line: string) => void> = []
  const commands: SystemdCommands = {
    run: async (program, args) => {
      calls.push([program, ...args])
      return answer(program, args)
    },
    follow: (program, args, onLine) => {
      calls.push([program, ...args])
      followers.push(onLine)
      return () => {}
    },
  }
  return { calls, followers, commands }
}

describe('start, poll and stop, against recorded systemctl answers', () => {
  it('starts the unit with its environment in a private file, shows the journal as progress, and stops it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'edgehub-systemd-'))
    dirs.push(dataDir)
    let active = 'active'
    const r = recorded((program, args) => {
      if (program === 'systemctl' && args[0] === 'show')
        return `LoadState=loaded\nActiveState=${active}\nSubState=${active === 'active' ? 'running' : 'dead'}\nExecMainStatus=0\nResult=success\nInvocationID=0f0f\n`
      if (program === 'systemctl' && args[0] === 'kill') active = 'inactive'
      return ''
    })
    const spawner = createSystemdSpawner({
      settings: systemdSettings.parse({ command: ['/usr/bin/jupyter', 'server'], journalLines: 2 }),
      dataDir,
      log: { info() {}, warn() {} },
      commands: r.commands,
      account: async (name) => ({ name, home: `/home/${name}` }),
    })
    const progress: string[] = []
    const state = await spawner.start(
      {
        user: 'ada',
        server: '',
        baseUrl: '/user/ada/',
        env: { JUPYTERHUB_API_TOKEN: 'secret-token', JUPYTERHUB_USER: 'ada' },
        options: {},
        logFile: '/dev/null',
        progress: (m) => progress.push(m),
      },
      AbortSignal.timeout(5_000),
    )
    expect(state).toMatchObject({
      unit: 'jupyter-ada.service',
      invocationId: '0f0f',
      ip: '127.0.0.1',
      baseUrl: '/user/ada/',
    })
    expect(spawner.instanceKey(state)).toBe('jupyter-ada.service@0f0f')
    const [reset, run, show, journal] = r.calls
    expect(reset).toEqual(['systemctl', 'reset-failed', 'jupyter-ada.service'])
    expect(run.slice(0, 2)).toEqual(['systemd-run', '--unit=jupyter-ada.service'])
    expect(run).toContain('--property=User=jupyter-ada')
    expect(run).toContain('--property=WorkingDirectory=/home/jupyter-ada')
    expect(run.slice(run.indexOf('--') + 1, run.indexOf('--') + 3)).toEqual(['/usr/bin/jupyter', 'server'])
    expect(run).toContain(`--port=${state.port}`)
    expect(run).toContain('--notebook-dir=/home/jupyter-ada')
    expect(run.join(' ')).not.toContain('secret-token') // the token is never on a command line
    expect(show.slice(0, 3)).toEqual(['systemctl', 'show', 'jupyter-ada.service'])
    expect(journal).toEqual([
      'journalctl',
      '-u',
      'jupyter-ada.service',
      '_SYSTEMD_INVOCATION_ID=0f0f',
      '-o',
      'cat',
      '-n',
      '2',
      '-f',
      '--no-pager',
    ])
    const envFile = join(dataDir, 'systemd-units', 'jupyter-ada.service.env')
    expect(statSync(envFile).mode & 0o777).toBe(0o600)
    expect(readFileSync(envFile, 'utf8')).toContain("JUPYTERHUB_API_TOKEN='secret-token'")
    expect(readFileSync(envFile, 'utf8')).toContain(`JUPYTERHUB_SERVICE_URL='http://127.0.0.1:${state.port}/user/ada/'`)
    // the journal's lines reach the spawn-pending page, as many as journalLines
    for (const line of ['Serving notebooks', 'Jupyter Server is running', 'a third']) r.followers[0](line)
    expect(progress.slice(1)).toEqual(['Serving notebooks', 'Jupyter Server is running'])
    expect((await spawner.poll(state)).phase).toBe('running')

    r.calls.length = 0
    await spawner.stop(state, { graceMs: 2_000 })
    expect(r.calls.filter((c) => c[1] !== 'show')).toEqual([
      ['systemctl', 'kill', '--kill-whom=all', '--signal=SIGTERM', 'jupyter-ada.service'],
      ['systemctl', 'stop', 'jupyter-ada.service'],
      ['systemctl', 'reset-failed', 'jupyter-ada.service'],
    ])
    expect(existsSync(envFile)).toBe(false)
    expect((await spawner.poll(state)).phase).toBe('stopped')
    // a second stop signals nothing
    r.calls.length = 0
    await spawner.stop(state)
    expect(r.calls.filter((c) => c[1] === 'kill' || c[1] === 'stop')).toEqual([])
  })

  it('honours an aborted start: nothing is run', async () => {
    const r = recorded(() => '')
    const spawner = createSystemdSpawner({
      settings: defaults,
      dataDir: tmpdir(),
      log: { info() {}, warn() {} },
      commands: r.commands,
    })
    const req = {
      user: 'ada',
      server: '',
      baseUrl: '/user/ada/',
      env: {},
      options: {},
      logFile: '/dev/null',
      progress() {},
    }
    await expect(spawner.start(req, AbortSignal.abort(new Error('start timeout')))).rejects.toThrow('start timeout')
    expect(r.calls).toEqual([])
  })
})

describe('on this machine (no systemd as PID 1)', () => {
  const cmds = realCommands(10_000)
  it.skipIf(!existsSync('/usr/bin/systemd-run'))(
    'systemd-run and systemd-run --user cannot start a unit, and the error says why',
    async () => {
      await expect(cmds.run('systemd-run', systemdRunArgs(defaults, { ...spec, argv: ['/bin/true'] }))).rejects.toThrow(
        /systemd-run .*failed: .*(not been booted with systemd|Failed to connect to bus)/,
      )
      await expect(cmds.run('systemd-run', ['--user', '--quiet', '/bin/true'])).rejects.toThrow(
        /Failed to connect to bus/,
      )
      await expect(cmds.run('systemctl', ['show', 'jupyter-ada.service', '--property=ActiveState'])).rejects.toThrow(
        /systemctl show failed/,
      )
    },
  )
  it.skipIf(!existsSync('/usr/bin/journalctl'))('journalctl runs and finds no journal of the unit', async () => {
    const lines: string[] = []
    const stop = cmds.follow('journalctl', ['-u', 'jupyter-ada.service', '-o', 'cat', '-n', '5', '--no-pager'], (l) =>
      lines.push(l),
    )
    await waitFor(
      'journalctl to end',
      async () =>
        (await cmds.run('journalctl', ['-u', 'jupyter-ada.service', '-o', 'cat', '-n', '5', '--no-pager'])) === '',
      { timeoutMs: 10_000 },
    )
    stop()
    expect(lines).toEqual([])
  })
})
