// No secret reaches a log, at the most verbose level: passwords (right and wrong), API tokens (in a
// header and in ?token=), OAuth codes and access tokens, a service's token, session cookies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { BIN, startStack, type Stack } from '../../support/stack'
import { Client, json } from '../../support/client'
import { okServerSpawner } from '../../support/servers'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'

const SERVICE_TOKEN = 'grader-service-token-7d1c0e5a9b04f3e2c1d0'
const ROOT_PASSWORD = 'root-password-4f1e2d'
const SAM_PASSWORD = 'sam-password-8a2b3c'
const SAM_NEW_PASSWORD = 'sam-new-password-5e6f7a'
const WRONG_PASSWORD = 'wrong-password-9d8c7b'

let stack: Stack
let grader: Server
const secrets = new Map<string, string>() // what -> value

beforeAll(async () => {
  const port = await freePort('127.0.0.1')
  grader = createServer((_req, res) => res.end('grader')).listen(port, '127.0.0.1')
  stack = await startStack({
    logLevel: 'debug',
    services: [{ name: 'grader', url: `http://127.0.0.1:${port}`, apiToken: SERVICE_TOKEN, oauthNoConfirm: true }],
    roles: [{ name: 'graded', scopes: ['access:services!service=grader'], users: ['sam'] }],
    spawner: okServerSpawner(),
  })
  secrets.set('service token', SERVICE_TOKEN)
})
afterAll(async () => {
  await stack?.stop()
  grader?.close()
})

/** Every log file the stack wrote: hub, proxy access and error logs, servers' logs, Redis. */
function logs(dir: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...logs(p))
    else if (name.endsWith('.log')) out.push({ file: p, text: readFileSync(p, 'utf8') })
  }
  return out
}

describe('logs at debug level', () => {
  it('hold none of the secrets that passed through the stack', async () => {
    const add = spawnSync(
      process.execPath,
      [BIN, 'user', 'add', 'root', '--admin', '--password-stdin', '--config', stack.configFile],
      { input: ROOT_PASSWORD, encoding: 'utf8' },
    )
    expect(add.status).toBe(0)
    secrets.set('root password', ROOT_PASSWORD)

    // an admin logs in, adds sam through the admin page and makes a token on the token page
    const root = new Client(stack.url)
    expect((await root.login('root', WRONG_PASSWORD)).status).toBe(403)
    secrets.set('wrong password', WRONG_PASSWORD)
    expect((await root.login('root', ROOT_PASSWORD)).status).toBe(302)
    secrets.set('root session cookie', root.jar.get('edgehub-session')!)
    expect((await root.postForm('/hub/admin/users', { username: 'sam', password: SAM_PASSWORD })).status).toBe(302)
    secrets.set('sam password', SAM_PASSWORD)
    const page = await (await root.postForm('/hub/token', { note: 'log test' })).text()
    const rootToken = page.match(/<code id="new-token">([^<]+)<\/code>/)![1]
    secrets.set('root token', rootToken)

    // sam logs in, starts a server, makes a token through the API and uses it in the URL
    const sam = new Client(stack.url)
    expect((await sam.login('sam', SAM_PASSWORD)).status).toBe(302)
    secrets.set('sam session cookie', sam.jar.get('edgehub-session')!)
    expect([201, 202]).toContain((await sam.api('POST', '/users/sam/server')).status)
    await waitFor("sam's server", async () => (await sam.get('/user/sam/')).status === 200, { timeoutMs: 20_000 })
    const samToken = (await json(await sam.api('POST', '/users/sam/tokens', { note: 'query' }))).token as string
    secrets.set('sam token', samToken)
    expect((await fetch(`${stack.url}/hub/api/user?token=${samToken}`)).status).toBe(200)
    expect((await fetch(`${stack.url}/user/sam/?token=${samToken}`)).status).toBe(200)
    expect(
      (await fetch(`${stack.url}/hub/api/users`, { headers: { authorization: `token ${rootToken}` } })).status,
    ).toBe(200)
    expect(
      (
        await fetch(`${stack.url}/hub/api/authorizations/token/${samToken}`, {
          headers: { authorization: `token ${SERVICE_TOKEN}` },
        })
      ).status,
    ).toBeLessThan(500)

    // OAuth for the service: a code, exchanged for an access token, which is used
    const redirect = '/services/grader/oauth_callback'
    const r = await sam.get(
      `/hub/api/oauth2/authorize?${new URLSearchParams({ client_id: 'service-grader', redirect_uri: redirect, response_type: 'code', state: 's' })}`,
    )
    expect(r.status).toBe(302)
    const code = new URL(r.headers.get('location')!, stack.url).searchParams.get('code')!
    secrets.set('oauth code', code)
    const exchanged = await fetch(`${stack.url}/hub/api/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirect,
        client_id: 'service-grader',
        client_secret: SERVICE_TOKEN,
      }),
    })
    expect(exchanged.status).toBe(200)
    const access = ((await exchanged.json()) as { access_token: string }).access_token
    secrets.set('oauth access token', access)
    expect((await fetch(`${stack.url}/hub/api/user`, { headers: { authorization: `Bearer ${access}` } })).status).toBe(
      200,
    )
    // a replayed code is refused (and not logged either)
    expect(
      (
        await fetch(`${stack.url}/hub/api/oauth2/token`, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code,
            redirect_uri: redirect,
            client_id: 'service-grader',
            client_secret: SERVICE_TOKEN,
          }),
        })
      ).status,
    ).toBe(400)

    // sam changes the password (a wrong current one first)
    expect(
      (await sam.postForm('/hub/change-password', { old_password: WRONG_PASSWORD, new_password: SAM_NEW_PASSWORD }))
        .status,
    ).toBe(400)
    expect(
      (await sam.postForm('/hub/change-password', { old_password: SAM_PASSWORD, new_password: SAM_NEW_PASSWORD }))
        .status,
    ).toBe(200)
    secrets.set('sam new password', SAM_NEW_PASSWORD)
    expect((await root.get('/hub/logout')).status).toBe(302)

    // the proxy writes its access log as requests end; the hub as it goes
    await waitFor(
      'the proxy to log the last request',
      () => logs(stack.dir).some((l) => l.file.endsWith('access.log') && l.text.includes('/hub/logout')),
      { timeoutMs: 5000 },
    )
    const all = logs(stack.dir)
    const hubLog = all.find((l) => l.file.endsWith('hub.log'))!
    expect(hubLog.text).toContain('"level":"debug"') // the level took effect
    expect(hubLog.text).toContain('user logged in')
    expect(all.some((l) => l.file.endsWith('access.log') && l.text.includes('/hub/api/oauth2/token'))).toBe(true)
    for (const { file, text } of all) {
      for (const [what, value] of secrets) {
        expect(text.includes(value), `${what} in ${file}`).toBe(false)
      }
      // nor the signature part of a session cookie on its own
      for (const what of ['root session cookie', 'sam session cookie']) {
        const sig = secrets.get(what)!.split('.').at(-1)!
        expect(text.includes(sig), `${what}'s signature in ${file}`).toBe(false)
      }
    }
  })
})
