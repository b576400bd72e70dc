// Docker profiles through the hub's REST API, on a real stack and a real engine: a user starts a
// profile of her group and gets its memory limit and shared volume; a profile of another group, an
// image or a limit asked for directly are refused with 400 naming the field, and no container is made.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { json } from '../../support/client'
import { envServer } from '../../support/servers'
import { person, rootOf, serverRouted, stopServer, type Admin } from '../../support/people'
import {
  dockerEngine,
  dockerSkipReason,
  dockerSpawnerSettings,
  ownContainers,
  removeOwn,
  type DockerEngine,
} from '../../support/docker'

/** Answers every GET with 200 and the server's SIZE variable. */
const SIZE_SERVER = envServer('SIZE')

describe.skipIf(!!dockerSkipReason)(
  `docker profiles through the hub's API${dockerSkipReason ? ` (skipped: ${dockerSkipReason})` : ''}`,
  () => {
    let engine: DockerEngine
    let stack: Stack
    let root: Admin
    let ann: Admin
    let mia: Admin
    const prefix = `dp${process.pid % 10000}`
    const ours = () => ownContainers(engine, prefix)

    beforeAll(async () => {
      engine = await dockerEngine()
      stack = await startStack({
        spawner: dockerSpawnerSettings(engine, prefix, {
          cmd: ['/usr/bin/python3', '-c', SIZE_SERVER, '{ip}', '{port}'],
          memLimit: '256M',
          profiles: [
            { slug: 'small', displayName: 'Small', default: true, overrides: { env: { SIZE: 'small' } } },
            {
              slug: 'big',
              displayName: 'Big',
              groups: ['research'],
              overrides: {
                memLimit: '1G',
                env: { SIZE: 'big' },
                volumes: [{ source: '/etc/hostname', target: '/srv/shared/hostname' }],
              },
            },
          ],
        }),
      })
      root = await rootOf(stack)
      ann = await person(root, 'ann')
      mia = await person(root, 'mia')
      const made = await fetch(`${stack.url}/hub/api/groups/research`, {
        method: 'POST',
        headers: { ...root.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ users: ['mia'] }),
      })
      expect(made.status).toBe(201)
    }, 180_000)
    afterAll(async () => {
      await stack?.stop()
      if (!engine) return
      await removeOwn(engine, prefix)
    }, 60_000)

    const post = (who: Admin, body: unknown) =>
      fetch(`${stack.url}/hub/api/users/${who.name}/server`, {
        method: 'POST',
        headers: { ...who.auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })

    it('refuses a profile of another group, an image or a limit asked for directly: 400 naming the field, no container', async () => {
      for (const [body, field] of [
        [{ profile: 'big' }, 'user_options.profile'],
        [{ image: 'evil:latest' }, 'user_options.image'],
        [{ profile: 'small', memLimit: '1T' }, 'user_options.memLimit'],
        [{ profile: 'small', volumes: [{ source: '/', target: '/host' }] }, 'user_options.volumes'],
      ] as const) {
        const res = await post(ann, body)
        expect(res.status).toBe(400)
        expect((await json(res)).message).toMatch(new RegExp(`^${field.replaceAll('.', '\\.')}: `))
      }
      expect(await ours()).toEqual([])
    })

    it("starts the profile of a user's group with its limit, variables and shared volume", async () => {
      const res = await post(mia, { profile: 'big' })
      expect([201, 202]).toContain(res.status)
      await serverRouted(stack.url, mia.token, 'mia')
      expect(await (await mia.client.get('/user/mia/')).text()).toBe('big')
      const [container] = await ours()
      const info = await engine.docker.getContainer(container!.Id).inspect()
      expect(info.HostConfig.Memory).toBe(2 ** 30)
      expect(info.Mounts.find((m) => m.Destination === '/srv/shared/hostname')?.RW).toBe(false)
      const model = await json(await fetch(`${stack.url}/hub/api/users/mia`, { headers: mia.auth }))
      expect(model.servers[''].user_options).toEqual({ profile: 'big' })
      await stopServer(stack.url, mia.token, 'mia')
      expect(await ours()).toEqual([])

      // the default profile for someone who names none
      expect([201, 202]).toContain((await post(ann, {})).status)
      await serverRouted(stack.url, ann.token, 'ann')
      expect(await (await ann.client.get('/user/ann/')).text()).toBe('small')
      const [small] = await ours()
      expect((await engine.docker.getContainer(small!.Id).inspect()).HostConfig.Memory).toBe(256 * 2 ** 20)
      await stopServer(stack.url, ann.token, 'ann')
    })
  },
)
