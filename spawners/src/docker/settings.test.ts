import { describe, expect, it } from 'vitest'
import { dockerSettings, parseBytes } from './settings'
import { containerSpec, runsAsRoot } from './container-spec'

const problems = (input: unknown) => {
  const r = dockerSettings.safeParse(input)
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
}

describe('spawner.docker settings', () => {
  it('has working defaults: a docker-stacks image, JupyterHub’s names, a named network, removal on stop', () => {
    expect(dockerSettings.parse(undefined)).toMatchObject({
      image: 'quay.io/jupyter/base-notebook:latest',
      pullPolicy: 'ifNotPresent',
      nameTemplate: 'jupyter-{username}-{servername}',
      volumeNameTemplate: 'jupyterhub-user-{username}',
      notebookDir: '/home/jovyan',
      network: 'edgehub-users',
      port: 8888,
      remove: true,
      allowRoot: false,
      profiles: [],
    })
  })

  it('names the key of a bad template, size, limit or volume', () => {
    expect(problems({ nameTemplate: 'jupyter-{user}' })).toEqual([
      'nameTemplate: expected only the placeholders {username} and {servername}',
    ])
    expect(problems({ volumeNameTemplate: 'shared-home' })).toEqual([
      'volumeNameTemplate: expected {username} in the template (names must differ per user)',
    ])
    expect(problems({ memLimit: 'lots' })).toEqual(['memLimit: expected a size such as 512M or 2G'])
    expect(problems({ memLimit: '1M' })).toEqual(['memLimit: expected between 6M (Docker’s least) and 4T'])
    expect(problems({ cpuLimit: 0 })[0]).toMatch(/^cpuLimit: /)
    expect(problems({ apiTimeoutSec: 100_000 })[0]).toMatch(/^apiTimeoutSec: /)
    expect(problems({ volumes: [{ source: 'data', target: 'relative' }] })[0]).toMatch(/^volumes\.0\.target: /)
    expect(problems({ profiles: [{ slug: 'a', displayName: 'A', overrides: { privileged: true } }] })[0]).toMatch(
      /^profiles\.0\.overrides: /,
    )
  })

  it('reads sizes in binary units, as Docker does', () => {
    expect(parseBytes('512M')).toBe(512 * 2 ** 20)
    expect(parseBytes('1.5G')).toBe(1.5 * 2 ** 30)
    expect(parseBytes('2gib')).toBe(2 * 2 ** 30)
    expect(parseBytes('1048576')).toBe(2 ** 20)
    expect(parseBytes('-1M')).toBeUndefined()
  })

  it('tells a root user from others, the image’s empty USER being root', () => {
    expect(['', 'root', '0', '0:0', 'root:users'].map(runsAsRoot)).toEqual([true, true, true, true, true])
    expect(['jovyan', '1000', '1000:0', '1000:100'].map(runsAsRoot)).toEqual([false, false, false, false])
  })

  it('creates confined containers: no privileges, nothing added, no-new-privileges, shared volumes read-only', () => {
    const spec = containerSpec({
      name: 'jupyter-ada',
      image: 'img:1',
      env: { A: '1' },
      labels: {},
      network: 'edgehub-users',
      homeVolume: 'jupyterhub-user-ada',
      notebookDir: '/home/jovyan',
      volumes: [{ source: '/data', target: '/data', readOnly: true }],
      memLimit: '1G',
    })
    expect(spec.HostConfig).toMatchObject({
      Privileged: false,
      CapAdd: [],
      SecurityOpt: ['no-new-privileges'],
      Memory: 2 ** 30,
      MemorySwap: 2 ** 30,
      NetworkMode: 'edgehub-users',
      Mounts: [
        { Type: 'volume', Source: 'jupyterhub-user-ada', Target: '/home/jovyan' },
        { Type: 'bind', Source: '/data', Target: '/data', ReadOnly: true },
      ],
    })
    expect(spec.Cmd).toBeUndefined() // the image's own command
    expect(spec.Env).toEqual(['A=1'])
  })
})
