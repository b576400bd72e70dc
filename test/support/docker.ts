// The Docker engine of a test run (test/support/docker-engine.ts): one for every test file of the run.
// vitest.config.ts names this file as a globalSetup: the default export names the run's directory
// (inject('dockerDir')) and, when the run ends, stops the engine if a file started one. Files call
// dockerEngine(), which starts the engine and builds the test image once, whichever file comes
// first; files running at the same time share it.
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { isRoot } from './accounts'
import { startEngine, stopEngine, TEST_IMAGE_VOLUMES, type DockerEngine } from './docker-engine'

export { TEST_IMAGE, TEST_IMAGE_VOLUMES, type DockerEngine } from './docker-engine'

declare module 'vitest' {
  export interface ProvidedContext {
    dockerDir: string
  }
}

/** Why the Docker tests cannot run here (dockerd needs root), or undefined when they can. */
export const dockerSkipReason: string | undefined = isRoot
  ? undefined
  : 'dockerd needs root (run the tests as root, as .ci/run does)'

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

/** The run's engine, started and its test image built by the first caller. */
export async function dockerEngine(): Promise<DockerEngine> {
  if (dockerSkipReason) throw new Error(dockerSkipReason)
  return startEngine(inject('dockerDir'))
}

/**
 * The spawner settings of a test stack whose servers are containers on the run's engine: the test
 * image, never pulled, host networking (loopback addresses, as these machines allow), the image's
 * volumes, and container and volume names under prefix (ownContainers, removeOwn). docker: settings
 * of the test's own over these (cmd, profiles, limits…).
 */
export function dockerSpawnerSettings(engine: DockerEngine, prefix: string, docker: Record<string, unknown> = {}) {
  return {
    kind: 'docker',
    docker: {
      host: engine.host,
      image: engine.image,
      pullPolicy: 'never',
      network: 'host',
      volumes: TEST_IMAGE_VOLUMES,
      nameTemplate: `${prefix}-{username}-{servername}`,
      volumeNameTemplate: `${prefix}-home-{username}`,
      ...docker,
    },
  }
}

/** The containers (running or not) named under prefix. */
export async function ownContainers(engine: DockerEngine, prefix: string) {
  return (await engine.docker.listContainers({ all: true })).filter((c) =>
    c.Names.some((n) => n.startsWith(`/${prefix}-`)),
  )
}

/** Removes every container and volume named under prefix (a test's afterAll). */
export async function removeOwn(engine: DockerEngine, prefix: string): Promise<void> {
  for (const c of await ownContainers(engine, prefix)) await engine.docker.getContainer(c.Id).remove({ force: true })
  const { Volumes } = await engine.docker.listVolumes()
  for (const v of Volumes.filter((v) => v.Name.startsWith(`${prefix}-`))) await engine.docker.getVolume(v.Name).remove()
}
