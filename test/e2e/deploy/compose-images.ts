// Images for bringing deploy/compose/docker-compose.yml up where no registry can be reached: each
// image the compose file names (redis, edgehub/hub, edgehub/proxy, haproxy) is made by
// `docker import` of one small root filesystem (accounts, empty directories owned as the real
// images own them), with the run settings of the real image: for edgehub's images, the final
// stage's USER, ENV, WORKDIR, ENTRYPOINT and CMD read from deploy/images/*/Dockerfile. The programs
// come from the host: a compose override file (composeOverride) bind-mounts the host's /usr
// read-only into every container and the checkout where the image installs the package
// (/opt/edgehub/node_modules/edgehub), as test/support/docker-engine.ts does for the spawner's
// test image. So this runs the compose file's own services, commands, mounts, secrets, users,
// environment and host networking, with the host's redis-server, node, Debian nginx and haproxy
// standing in for the images' own builds of them.
import { spawnSync } from 'node:child_process'
import { createReadStream, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type Docker from 'dockerode'
import { stringify } from 'yaml'
import { ROOT } from '../../support/stack'
import { readDockerfile } from './dockerfile'

export const PACKAGE_DIR = '/opt/edgehub/node_modules/edgehub'
const USR_FOLDERS = ['/usr/bin', '/usr/sbin', '/usr/lib', '/usr/lib64', '/usr/libexec', '/usr/share']

/** The run settings (docker import --change lines) of a Dockerfile's final stage. */
function runSettings(name: 'hub' | 'proxy'): string[] {
  const { stages } = readDockerfile(join(ROOT, 'deploy/images', name, 'Dockerfile'))
  const final = stages[stages.length - 1]!
  return final.instructions
    .filter((i) => ['USER', 'ENV', 'WORKDIR', 'ENTRYPOINT', 'CMD', 'EXPOSE'].includes(i.op))
    .map((i) => `${i.op} ${i.args}`)
}

const IMAGES: Record<string, string[]> = {
  'redis:7.2-bookworm': ['USER 999:999', 'WORKDIR /data', 'CMD ["redis-server"]'],
  'edgehub/hub:0.1.0': runSettings('hub'),
  'edgehub/proxy:0.1.0': runSettings('proxy'),
  // as the official image: the haproxy user, in the foreground
  'haproxy:2.8-bookworm': ['USER 99:99', 'CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]'],
}

/** Imports every image the compose file names into `docker`; `dir` is scratch space. */
export async function importComposeImages(docker: Docker, dir: string): Promise<void> {
  const rootfs = join(dir, 'rootfs')
  rmSync(rootfs, { recursive: true, force: true })
  const owned: Array<[string, string]> = [
    ['data', '999:999'],
    ['var/lib/edgehub', '10001:10001'],
    ['var/lib/edgehub/proxy', '10001:10001'],
    ['var/lib/haproxy', '99:99'],
  ]
  for (const d of [
    'etc/edgehub',
    'etc/alternatives',
    'usr',
    ...USR_FOLDERS.map((d) => d.slice(1)),
    'proc',
    'sys',
    'dev',
    'run/secrets',
    'tmp',
    'var/tmp',
    'usr/local/etc/haproxy',
    PACKAGE_DIR.slice(1),
    ...owned.map(([p]) => p),
  ])
    mkdirSync(join(rootfs, d), { recursive: true })
  for (const d of ['bin', 'lib', 'lib64', 'sbin']) spawnSync('ln', ['-s', `usr/${d}`, join(rootfs, d)])
  writeFileSync(
    join(rootfs, 'etc/passwd'),
    [
      'root:x:0:0:root:/root:/bin/sh',
      'haproxy:x:99:99:haproxy:/var/lib/haproxy:/usr/sbin/nologin',
      'redis:x:999:999:redis:/data:/usr/sbin/nologin',
      'edgehub:x:10001:10001:edgehub:/var/lib/edgehub:/usr/sbin/nologin',
      '',
    ].join('\n'),
  )
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nhaproxy:x:99:\nredis:x:999:\nedgehub:x:10001:\n')
  spawnSync('chmod', ['1777', join(rootfs, 'tmp'), join(rootfs, 'var/tmp')])
  for (const [p, owner] of owned) spawnSync('chown', [owner, join(rootfs, p)])
  const tarball = join(dir, 'rootfs.tar')
  const tar = spawnSync('tar', ['-C', rootfs, '-cf', tarball, '.'], { encoding: 'utf8' })
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`)
  for (const [image, changes] of Object.entries(IMAGES)) {
    const [repo, tag] = image.split(':')
    const stream = await docker.importImage(createReadStream(tarball), { repo, tag, changes })
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
    )
  }
}

/**
 * A compose override that mounts the host's programs (and the checkout, as the package) in. Where a
 * service mounts a file of its own under /usr (HAProxy's /usr/local/etc/haproxy), /usr's program
 * folders are mounted one by one instead, so that the image's own /usr/local stays.
 */
/**
 * Whether any user may reach the checkout (every folder above it searchable by others): the images'
 * own unprivileged user can then read it as the package. A checkout in a private folder (a CI clone
 * under a 0700 temporary directory) is mounted for root instead; the images' user is checked by
 * images.test.ts either way.
 */
export function checkoutReadableByAll(dir = ROOT): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false
    if (d === dirname(d)) return true
  }
}

export function composeOverride(services: string[], edgehubServices: string[], ownUsrLocal: string[]): string {
  const usr = (s: string) =>
    ownUsrLocal.includes(s) ? USR_FOLDERS.filter((d) => existsSync(d)).map((d) => `${d}:${d}:ro`) : ['/usr:/usr:ro']
  return stringify({
    version: '3.8',
    services: Object.fromEntries(
      services.map((s) => [
        s,
        {
          volumes: [
            ...usr(s),
            '/etc/alternatives:/etc/alternatives:ro',
            ...(edgehubServices.includes(s) ? [`${ROOT}:${PACKAGE_DIR}:ro`] : []),
          ],
          ...(edgehubServices.includes(s) && !checkoutReadableByAll() ? { user: '0:0' } : {}),
        },
      ]),
    ),
  })
}
