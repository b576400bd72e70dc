// Every registered spawner runs the spawner contract (spawner-contract.ts); one line per plug-in.
import { mkdtempSync, chmodSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it, expect } from 'vitest'
import { SPAWNERS } from '../../spawners/src'
import { CONTRACT_SERVER, contractKinds, spawnerContract } from './spawner-contract'
import { isRoot, removeAccounts, testPrefix } from '../support/accounts'

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

it('runs the contract for every registered spawner', () => {
  // a spawner registered without a spawnerContract(...) in this file would not be held to the contract
  expect(Object.keys(SPAWNERS).filter((k) => !contractKinds.has(k))).toEqual([])
})
