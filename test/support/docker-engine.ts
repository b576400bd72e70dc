// A real Docker engine for the docker spawner's tests and benchmarks: Debian's dockerd with the vfs
// storage driver, its data in a directory of its own, no iptables and no default bridge (these
// machines have only loopback networking: containers use host networking and loopback addresses).
// startEngine(dir) starts it once per directory, under a lock (any number of processes may ask at
// once), and builds the test image; stopEngine(dir) stops it by its PID.
//
// The test image is a root filesystem with little but /etc/passwd (root and jovyan, 1000:100) and a
// home, imported with `USER 1000:100`; containers bind-mount the host's /usr and /etc/alternatives
// read-only (TEST_IMAGE_VOLUMES), so the host's python3, Jupyter notebook and jupyterhub-singleuser
// run in them. No registry is needed.
import { spawn, spawnSync } from 'node:child_process'
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
import { join } from 'node:path'
import Docker from 'dockerode'
import { waitFor } from '../../runtime/src/wait'

export const TEST_IMAGE = 'edgehub-test/host:1'

/** What containers of the test image mount: the host's programs, read-only. */
export const TEST_IMAGE_VOLUMES = [
  { source: '/usr', target: '/usr', readOnly: true },
  { source: '/etc/alternatives', target: '/etc/alternatives', readOnly: true },
  ...(existsSync('/etc/jupyter') ? [{ source: '/etc/jupyter', target: '/etc/jupyter', readOnly: true }] : []),
]

export interface DockerEngine {
  /** The engine's address, for spawner.docker.host. */
  host: string
  docker: Docker
  image: string
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
