// Every registered spawner runs the spawner contract (spawner-contract.ts); one line per plug-in.
import { mkdtempSync, chmodSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, expect } from 'vitest'
import { SPAWNERS } from '../../spawners/src'
import { CONTRACT_SERVER, contractKinds, spawnerContract } from './spawner-contract'
import { isRoot, removeAccounts, testPrefix } from '../support/accounts'
import { startFakeKubeApi } from '../support/fake-kube-api'
import { fakeClusterSettings } from '../support/kube-test-settings'
import { freePort } from '../../runtime/src/ports'
import type { KubernetesSpawner } from '../../spawners/src/kubernetes'
import { dockerEngine, dockerSkipReason, TEST_IMAGE_VOLUMES } from '../support/docker'
import { slurmSkipReason, slurmUnderTest } from '../support/slurm'
import { sudoSkipReason, sudoUnderTest } from '../support/sudo'

const quiet = { info() {}, warn() {} }

spawnerContract('local-process', async () => {
  const prefix = testPrefix() // as root, servers run as accounts made with this prefix
  const dataDir = mkdtempSync(join(tmpdir(), 'edgehub-contract-data-'))
  chmodSync(dataDir, 0o755)
  const settings = SPAWNERS['local-process'].settings.parse({
    command: ['python3', '-c', CONTRACT_SERVER],
    args: ['{ip}', '{port}'],
    userPrefix: prefix,
  })
  return {
    make: () => SPAWNERS['local-process'].create(settings, { dataDir, log: quiet }),
    async cleanup() {
      if (isRoot) expect(removeAccounts(prefix)).toEqual([])
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
})

// docker: a real engine (test/support/docker.ts), the server in the test image on host networking
if (dockerSkipReason) {
  contractKinds.add('docker')
  describe.skip(`spawner contract: docker (skipped: ${dockerSkipReason})`, () => it('runs', () => {}))
} else
  spawnerContract('docker', async () => {
    const engine = await dockerEngine()
    const settings = SPAWNERS.docker.settings.parse({
      host: engine.host,
      image: engine.image,
      pullPolicy: 'never',
      network: 'host',
      nameTemplate: 'contract-{username}-{servername}',
      volumeNameTemplate: 'contract-home-{username}',
      volumes: TEST_IMAGE_VOLUMES,
      cmd: ['/usr/bin/python3', '-c', CONTRACT_SERVER, '{ip}', '{port}'],
    })
    return {
      make: () => SPAWNERS.docker.create(settings, { dataDir: tmpdir(), log: quiet }),
      async cleanup() {
        const { Volumes } = await engine.docker.listVolumes()
        for (const v of Volumes.filter((v) => v.Name.startsWith('contract-home-')))
          await engine.docker.getVolume(v.Name).remove()
      },
    }
  })

// kubernetes: the FAKE API server (test/support/fake-kube-api.ts), whose fake kubelet runs the pod's
// command as a local process at a loopback address of the pod's own; kubernetes-real.test.ts runs
// the same suite against a real cluster
spawnerContract('kubernetes', async () => {
  const fake = await startFakeKubeApi()
  const settings = SPAWNERS.kubernetes.settings.parse(fakeClusterSettings(fake, await freePort()))
  const made: KubernetesSpawner[] = []
  return {
    make: () => {
      const s = SPAWNERS.kubernetes.create(settings, { dataDir: tmpdir(), log: quiet })
      made.push(s)
      return s
    },
    async cleanup() {
      for (const s of made) s.close()
      await fake.close()
    },
  }
})

// slurm: a real single-node Slurm started for the suite (test/support/slurm.ts)
if (slurmSkipReason) {
  contractKinds.add('slurm')
  describe.skip(`spawner contract: slurm (skipped: ${slurmSkipReason})`, () => it('runs', () => {}))
} else spawnerContract('slurm', slurmUnderTest)
// PBS/Torque, LSF, Grid Engine, HTCondor: no such scheduler runs here; their parsing is tested with
// recorded output (spawners/src/batch/schedulers.test.ts), the base they share by slurm's line above
for (const kind of ['pbs', 'lsf', 'sge', 'condor']) {
  contractKinds.add(kind)
  describe.skip(`spawner contract: ${kind} (no ${kind} scheduler on this machine)`, () => it('runs', () => {}))
}

// sudo: an unprivileged hub account, real sudo and a sudoers rule, the mediator, accounts per user (test/support/sudo.ts)
if (sudoSkipReason) {
  contractKinds.add('sudo')
  describe.skip(`spawner contract: sudo (skipped: ${sudoSkipReason})`, () => it('runs', () => {}))
} else spawnerContract('sudo', sudoUnderTest)
// systemd: no systemd as PID 1 on these machines; spawners/src/systemd/systemd.test.ts checks its
// command lines, unit properties (systemd-analyze verify) and recorded systemctl output instead
contractKinds.add('systemd')
describe.skip('spawner contract: systemd (no systemd as PID 1 on this machine)', () => it('runs', () => {}))

it('runs the contract for every registered spawner', () => {
  // a spawner registered without a spawnerContract(...) in this file would not be held to the contract
  expect(Object.keys(SPAWNERS).filter((k) => !contractKinds.has(k))).toEqual([])
})
