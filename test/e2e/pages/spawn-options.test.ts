// Profiles on the spawn page, from where a person starts: the home page's start button shows the
// options form (the profiles of the user's groups only), the chosen profile reaches the server (its
// env), and a profile or choice the user was not offered is refused, by the page (400 with the form
// and the reason) and by the REST API (400 JSON naming the field), with nothing started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { json } from '../../support/client'
import { person, rootOf, serverRouted, stopServer, type Admin } from '../../support/people'
import { waitFor } from '../../../runtime/src/wait'

/** Answers every GET with the profile settings it was started with (its environment). */
const ENV_SERVER = `
import http.server, json, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({k: os.environ.get(k) for k in ("PROFILE", "SIZE", "SITE")}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
`

const PROFILES = [
  { slug: 'small', displayName: 'Small', description: 'One core', overrides: { env: { PROFILE: 'small' } } },
  {
    slug: 'big',
    displayName: 'Big',
    default: true,
    overrides: { env: { PROFILE: 'big' } },
    options: {
      size: {
        displayName: 'Memory',
        choices: {
          m: { displayName: '8 GB', overrides: { env: { SIZE: 'm' } } },
          l: { displayName: '16 GB', default: true, overrides: { env: { SIZE: 'l' } } },
        },
      },
    },
  },
  { slug: 'gpu', displayName: 'GPU', groups: ['ml'], overrides: { env: { PROFILE: 'gpu' } } },
]

let stack: Stack
let root: Admin
let ann: Admin
let mia: Admin

describe('spawn page profiles', () => {
  beforeAll(async () => {
    stack = await startStack({
      spawner: {
        kind: 'local-process',
        'local-process': {
          command: ['python3', '-c', ENV_SERVER],
          args: ['{ip}', '{port}'],
          env: { SITE: 'test' },
          profiles: PROFILES,
        },
      },
    })
    root = await rootOf(stack)
    ann = await person(root, 'ann')
    mia = await person(root, 'mia')
    const made = await fetch(`${stack.url}/hub/api/groups/ml`, {
      method: 'POST',
      headers: { ...root.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ users: ['mia'] }),
    })
    expect(made.status).toBe(201)
  }, 90_000)
  afterAll(async () => {
    await stack?.stop()
  }, 60_000)

  const envOf = async (who: Admin) => json(await who.client.get(`/user/${who.name}/`))

  it("shows the form from the home page's start button, with the profiles of the user's groups only", async () => {
    const home = await (await ann.client.get('/hub/home')).text()
    expect(home).toContain('action="/hub/spawn"')
    const res = await ann.client.postForm('/hub/spawn', {}) // the start button: no choice yet
    expect(res.status).toBe(200)
    const page = await res.text()
    expect(page).toContain('id="spawn-form"')
    expect(page).toMatch(/value="small"/)
    expect(page).toMatch(/value="big"[^>]*checked|checked[^>]*value="big"/)
    expect(page).not.toContain('value="gpu"')
    expect(page).toContain('One core')
    expect((await json(await ann.client.api('GET', '/users/ann'))).servers).toEqual({}) // nothing started
    const mias = await (await mia.client.get('/hub/spawn')).text()
    expect(mias).toContain('value="gpu"')
  })

  it('starts the chosen profile with its choice; the server gets their settings and user_options records them', async () => {
    const res = await ann.client.postForm('/hub/spawn', { profile: 'big', 'profile-option-big--size': 'm' })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/hub/spawn-pending/ann')
    await serverRouted(stack.url, ann.token, 'ann')
    expect(await envOf(ann)).toEqual({ PROFILE: 'big', SIZE: 'm', SITE: 'test' })
    const model = await json(await ann.client.api('GET', '/users/ann'))
    expect(model.servers[''].user_options).toEqual({ profile: 'big', 'profile-option-size': 'm' })
    await stopServer(stack.url, ann.token, 'ann')
  })

  it('refuses a forged profile on the page: 400, the form again with the reason, nothing started', async () => {
    const res = await ann.client.postForm('/hub/spawn', { profile: 'gpu' })
    expect(res.status).toBe(400)
    const page = await res.text()
    expect(page).toContain('user_options.profile: &quot;gpu&quot; is not a profile offered to ann')
    expect(page).toContain('id="spawn-form"')
    const bad = await ann.client.postForm('/hub/spawn', { profile: 'big', 'profile-option-big--size': 'xl' })
    expect(bad.status).toBe(400)
    expect(await bad.text()).toContain('user_options.profile-option-size: &quot;xl&quot; is not a choice of big')
    const model = await json(await ann.client.api('GET', '/users/ann'))
    expect(model.servers[''] ?? { ready: false }).toMatchObject({ ready: false })
  })

  it('refuses through the REST API with 400 naming the field; a group member may start what her group offers', async () => {
    const post = (who: Admin, body: unknown) =>
      fetch(`${stack.url}/hub/api/users/${who.name}/server`, {
        method: 'POST',
        headers: { ...who.auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    for (const [body, field] of [
      [{ profile: 'gpu' }, 'user_options.profile'],
      [{ image: 'evil:latest' }, 'user_options.image'],
      [{ user_options: { profile: 'small', 'profile-option-size': 'l' } }, 'user_options.profile-option-size'],
    ] as const) {
      const res = await post(ann, body)
      expect(res.status).toBe(400)
      expect((await json(res)).message).toMatch(new RegExp(`^${field.replaceAll('.', '\\.')}: `))
    }
    const ok = await post(mia, { profile: 'gpu' })
    expect([201, 202]).toContain(ok.status)
    await serverRouted(stack.url, mia.token, 'mia')
    expect((await envOf(mia)).PROFILE).toBe('gpu')
    await stopServer(stack.url, mia.token, 'mia')
    // out of the group, her recorded choice is judged again at the next start (no body: the recorded options)
    const left = await fetch(`${stack.url}/hub/api/groups/ml/users`, {
      method: 'DELETE',
      headers: { ...root.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ users: ['mia'] }),
    })
    expect(left.status).toBe(200)
    const again = await fetch(`${stack.url}/hub/api/users/mia/server`, { method: 'POST', headers: mia.auth })
    expect(again.status).toBe(400)
    expect((await json(again)).message).toMatch(/^user_options\.profile: "gpu" is not a profile offered to mia/)
  })

  it('takes the choice from a spawn link (query options), as JupyterHub does', async () => {
    const res = await ann.client.get('/hub/spawn?profile=small')
    expect(res.status).toBe(302)
    await serverRouted(stack.url, ann.token, 'ann')
    expect((await envOf(ann)).PROFILE).toBe('small')
    await stopServer(stack.url, ann.token, 'ann')
    await waitFor(
      'the server to stop',
      async () => !(await json(await ann.client.api('GET', '/users/ann'))).servers[''],
    )
  })
})
