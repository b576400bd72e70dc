// A real Docker engine for the tests of the docker spawner: Debian's dockerd with the vfs storage
// driver, its data in a directory of this test run, no iptables and no default bridge (these machines
// have only loopback networking: containers use host networking and loopback addresses).
//
// One engine serves every test file of a run. vitest.config.ts names this file as a globalSetup: the
// default export names the run's directory (inject('dockerDir')) and, when the run ends, stops the
// engine if a file started one. Files call dockerEngine(), which starts the engine and builds the
// test image once, under a lock, whichever file comes first; files running at the same time share it.
//
// The test image is a root filesystem with little but /etc/passwd (root and jovyan, 1000:100) and a
// home, imported with `USER 1000:100`; containers bind-mount the host's /usr and /etc/alternatives
// read-only (TEST_IMAGE_VOLUMES), so the host's python3, Jupyter notebook and jupyterhub-singleuser
// run in them. No registry is needed.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Docker from 'dockerode'
import { inject } from 'vitest'
import { waitFor } from '../../runtime/src/wait'
import { isRoot } from './accounts'

declare module 'vitest' {
  export interface ProvidedContext {
    dockerDir: string
  }
}

export const TEST_IMAGE = 'edgehub-test/host:1'

/** What containers of the test image mount: the host's programs, read-only. */
export const TEST_IMAGE_VOLUMES = [
  { source: '/usr', target: '/usr', readOnly: true },
  { source: '/etc/alternatives', target: '/etc/alternatives', readOnly: true },
  ...(existsSync('/etc/jupyter') ? [{ source: '/etc/jupyter', target: '/etc/jupyter', readOnly: true }] : []),
]

/** Why the Docker tests cannot run here (dockerd needs root), or undefined when they can. */
export const dockerSkipReason: string | undefined = isRoot
  ? undefined
  : 'dockerd needs root (run the tests as root, as .ci/run does)'

export interface DockerEngine {
  /** The engine's address, for spawner.docker.host. */
  host: string
  docker: Docker
  image: string
}

/** A vitest globalSetup: the run's engine directory, and the engine stopped at the end. */
export default function setup({ provide }: { provide: (key: 'dockerDir', value: string) => void }) {
  // made by the first file that starts the engine: a run without Docker tests leaves nothing
  const dir = join(tmpdir(), `edgehub-docker-${process.pid}-${randomBytes(4).toString('hex')}`)
  provide('dockerDir', dir)
  return async () => {
    await stopEngine(dir)
    rmSync(dir, { recursive: true, force: true })
  }
}

const socketOf = (dir: string) => join(dir, 'docker.sock')
const pidOf = (dir: string): number | undefined => {
  try {
    return Number(readFileSync(join(dir, 'dockerd.pid'), 'utf8').trim()) || undefined
  } catch {
    return undefined
  }
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The run's engine, started and its test image built by the first caller. */
export async function dockerEngine(): Promise<DockerEngine> {
  if (dockerSkipReason) throw new Error(dockerSkipReason)
  return startEngine(inject('dockerDir'))
}

/** Starts dockerd in `dir` unless it runs already there (any process may call this at once). */
export async function startEngine(dir: string): Promise<DockerEngine> {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const lock = join(dir, 'lock')
  await waitFor(
    'the Docker engine lock',
    () => {
      try {
        mkdirSync(lock)
        writeFileSync(join(lock, 'pid'), String(process.pid))
        return true
      } catch {
        // a holder that died (a killed test worker) leaves its lock
        const holder = Number(readFileSync(join(lock, 'pid'), 'utf8') || 0)
        if (holder && !alive(holder)) rmSync(lock, { recursive: true, force: true })
        return false
      }
    },
    { timeoutMs: 180_000, intervalMs: 100 },
  )
  try {
    const docker = new Docker({ socketPath: socketOf(dir), timeout: 120_000 })
    const pid = pidOf(dir)
    if (!pid || !alive(pid)) await startDockerd(dir, docker)
    await buildTestImage(dir, docker)
    return { host: `unix://${socketOf(dir)}`, docker, image: TEST_IMAGE }
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

async function startDockerd(dir: string, docker: Docker): Promise<void> {
  const log = openSync(join(dir, 'dockerd.log'), 'a')
  // its own session, not a child of this test worker: other files go on using it after this one ends
  const child = spawn(
    'dockerd',
    [
      '--storage-driver=vfs',
      `--data-root=${join(dir, 'root')}`,
      `--exec-root=${join(dir, 'exec')}`,
      `-H`,
      `unix://${socketOf(dir)}`,
      `--pidfile=${join(dir, 'docker.pid')}`,
      '--iptables=false',
      '--ip-masq=false',
      '--bridge=none',
    ],
    { detached: true, stdio: ['ignore', log, log] },
  )
  child.unref()
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`dockerd did not start: ${err.message}`)))
    child.once('exit', (code) =>
      reject(new Error(`dockerd exited (${code}): ${readFileSync(join(dir, 'dockerd.log'), 'utf8').slice(-2000)}`)),
    )
  })
  writeFileSync(join(dir, 'dockerd.pid'), String(child.pid))
  await Promise.race([
    failed,
    waitFor('dockerd to answer', () => docker.ping().then(() => true), { timeoutMs: 60_000, intervalMs: 100 }),
  ])
  child.removeAllListeners('exit')
}

async function buildTestImage(dir: string, docker: Docker): Promise<void> {
  try {
    await docker.getImage(TEST_IMAGE).inspect()
    return
  } catch {
    /* not built yet */
  }
  const rootfs = join(dir, 'rootfs')
  rmSync(rootfs, { recursive: true, force: true })
  for (const d of [
    'etc/alternatives',
    'etc/jupyter',
    'home/jovyan',
    'usr',
    'proc',
    'sys',
    'dev',
    'var/tmp',
    'run',
    'tmp',
  ])
    mkdirSync(join(rootfs, d), { recursive: true })
  // Debian's merged /usr: the top-level program directories are links into it
  for (const d of ['bin', 'lib', 'lib64', 'sbin']) spawnSync('ln', ['-s', `usr/${d}`, join(rootfs, d)])
  writeFileSync(
    join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\njovyan:x:1000:100:jovyan:/home/jovyan:/bin/sh\n',
  )
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nusers:x:100:\n')
  spawnSync('chmod', ['1777', join(rootfs, 'tmp'), join(rootfs, 'var/tmp')])
  spawnSync('chown', ['1000:100', join(rootfs, 'home/jovyan')])
  const tarball = join(dir, 'rootfs.tar')
  const tar = spawnSync('tar', ['-C', rootfs, '-cf', tarball, '.'], { encoding: 'utf8' })
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`)
  const [repo, tag] = TEST_IMAGE.split(':')
  const stream = await docker.importImage(createReadStream(tarball), {
    repo,
    tag,
    changes: ['USER 1000:100', 'ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8'],
  })
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
  )
  await docker.getImage(TEST_IMAGE).inspect()
}

/**
 * Stops the engine of `dir` if one was started there: its containers removed first, then dockerd
 * by its PID (and the containerd it started with it), and mounts left under `dir` undone.
 */
export async function stopEngine(dir: string): Promise<void> {
  const pid = pidOf(dir)
  if (!pid || !alive(pid)) return
  const docker = new Docker({ socketPath: socketOf(dir), timeout: 60_000 })
  try {
    for (const c of await docker.listContainers({ all: true }))
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => {})
  } catch {
    /* the engine is not answering: it is stopped below all the same */
  }
  process.kill(pid, 'SIGTERM')
  try {
    await waitFor('dockerd to exit', () => !alive(pid), { timeoutMs: 60_000, intervalMs: 100 })
  } catch {
    process.kill(pid, 'SIGKILL')
  }
  // containerd and shims it started, by the directory on their command line
  for (const p of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir)) process.kill(Number(p), 'SIGKILL')
    } catch {
      /* gone */
    }
  }
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(`${dir}/`))
    .reverse()
  for (const m of mounts) spawnSync('umount', ['-l', m])
}
