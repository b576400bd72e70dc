import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from './load'
import { ConfigError } from '../../../runtime/src/errors'

const dir = mkdtempSync(join(tmpdir(), 'edgehub-cfg-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let files = 0
function file(text: string): string {
  const p = join(dir, `edgehub-${++files}.yaml`)
  writeFileSync(p, text)
  return p
}

function problems(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as Error).message
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('gives the documented defaults with no file and no environment', () => {
    const { config } = loadConfig({ env: {}, cwd: tmpdir() })
    expect(config.port).toBe(8000)
    expect(config.dataDir).toBe(join(tmpdir(), 'data'))
    expect(config.auth.kind).toBe('native')
    expect(config.spawner['local-process'].command).toEqual(['jupyter', 'notebook'])
  })

  it("takes auth state keys from JupyterHub's JUPYTERHUB_CRYPT_KEY, and names the key when they are missing", () => {
    const [k1, k2] = ['a'.repeat(64), 'b'.repeat(64)]
    const { config } = loadConfig({
      env: { JUPYTERHUB_CRYPT_KEY: `${k1};${k2}`, EDGEHUB_AUTH_ENABLE_AUTH_STATE: 'true' },
    })
    expect(config.auth.cryptKeys).toEqual([k1, k2])
    expect(problems(() => loadConfig({ env: { EDGEHUB_AUTH_ENABLE_AUTH_STATE: 'true' } }))).toContain(
      'auth.cryptKeys: needed when auth.enableAuthState is true',
    )
    expect(problems(() => loadConfig({ env: { JUPYTERHUB_CRYPT_KEY: 'short' } }))).toContain(
      'auth.cryptKeys.0: expected a 32-byte key: 64 hex digits or base64 (openssl rand -hex 32) (from JUPYTERHUB_CRYPT_KEY)',
    )
  })

  it('reads EDGEHUB_DATA_DIR and EDGEHUB_PORT over the file', () => {
    const f = file('port: 9000\ndataDir: /srv/a\n')
    const { config } = loadConfig({ file: f, env: { EDGEHUB_PORT: '9100', EDGEHUB_DATA_DIR: '/srv/b' } })
    expect(config.port).toBe(9100)
    expect(config.dataDir).toBe('/srv/b')
  })

  it('maps nested settings to EDGEHUB_SECTION_KEY variables', () => {
    const { config } = loadConfig({
      env: {
        EDGEHUB_SPAWNER_START_TIMEOUT_SEC: '12',
        EDGEHUB_PROXY_ADMIN_ACCESS: 'false',
        EDGEHUB_AUTH_ADMINS: 'ann, bob',
      },
    })
    expect(config.spawner.startTimeoutSec).toBe(12)
    expect(config.proxy.adminAccess).toBe(false) // the default is true
    expect(config.auth.admins).toEqual(['ann', 'bob'])
  })

  it('reads a port range from the environment as LOW-HIGH and refuses one upside down', () => {
    const { config } = loadConfig({ env: { EDGEHUB_SPAWNER_LOCAL_PROCESS_PORT_RANGE: '21000-21999' } })
    expect(config.spawner['local-process'].portRange).toEqual([21000, 21999])
    const msg = problems(() => loadConfig({ env: { EDGEHUB_SPAWNER_LOCAL_PROCESS_PORT_RANGE: '2-1' } }))
    expect(msg).toContain('spawner.local-process.portRange: expected [lowest, highest]')
  })

  it('names an unknown key in the file, with its dotted path', () => {
    const msg = problems(() => loadConfig({ file: file('spawner:\n  startTimeoutSecs: 5\n'), env: {} }))
    expect(msg).toContain('spawner.startTimeoutSecs: unknown setting')
    expect(msg).toContain('(1 problem)')
  })

  it('reports every problem at once', () => {
    const msg = problems(() => loadConfig({ file: file('port: "x"\nauth:\n  kind: saml\nfoo: 1\n'), env: {} }))
    expect(msg).toContain('(3 problems)')
    expect(msg).toMatch(/^ {2}port: expected number/m)
    expect(msg).toMatch(/^ {2}auth\.kind: /m)
    expect(msg).toMatch(/^ {2}foo: unknown setting/m)
  })

  it('names the environment variable a bad value came from', () => {
    const msg = problems(() => loadConfig({ env: { EDGEHUB_PORT: 'eighty' } }))
    expect(msg).toContain('port: expected number, received string (from EDGEHUB_PORT)')
  })

  it('refuses an unknown EDGEHUB_ variable', () => {
    expect(problems(() => loadConfig({ env: { EDGEHUB_PROT: '1' } }))).toContain(
      'EDGEHUB_PROT: unknown environment variable',
    )
  })

  it('says which file cannot be parsed', () => {
    const f = file('port: [1\n')
    expect(problems(() => loadConfig({ file: f, env: {} }))).toContain(`cannot parse ${f}`)
  })
})
