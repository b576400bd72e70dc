// `edgehub up` with its Redis behind ACL users: the hub and the proxy work as before (log in, start
// a server, open it through the proxy, activity written by the proxy), and from a kernel of a user's
// server, running as the user's own Unix account, every Redis command is refused, no file of the data
// directory the user can read holds a credential, and nothing of Redis is in the server's environment.
import { afterAll, describe, expect, it } from 'vitest'
import { chmodSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { cleanup, dataDir, loginAdmin, stackEnv, up } from '../up/support'
import { ownToken, startServer } from '../../support/people'
import { openKernel, type KernelSocket } from '../../support/kernel'
import { json } from '../../support/client'
import { stackRedis } from '../../support/redis'
import { isRoot, removeAccounts, testPrefix } from '../../support/accounts'
import { privateRedisDir, readRedisCredentials } from '../../../control-plane/src/protocol'
import { waitFor } from '../../../runtime/src/wait'

const prefix = testPrefix()
let kernel: KernelSocket | undefined
afterAll(async () => {
  kernel?.close()
  cleanup()
  // userdel refuses an account while a process of it is still exiting from the SIGKILL
  let problems: string[] = []
  await waitFor("the test's accounts to be removed", () => (problems = removeAccounts(prefix)).length === 0, {
    timeoutMs: 10_000,
    intervalMs: 200,
  }).catch(() => {
    throw new Error(`could not remove the test's accounts: ${problems.join('; ')}`)
  })
})

/** Python for the kernel: sends each command to Redis in RESP and returns the first line of each reply. */
const redisFromKernel = (port: number, commands: string[][]) => `
import json, socket
def cmd(args):
    s = socket.create_connection(('127.0.0.1', ${port}), timeout=5)
    s.sendall(('*%d\\r\\n' % len(args)).encode() + b''.join(('$%d\\r\\n%s\\r\\n' % (len(a.encode()), a)).encode() for a in args))
    reply = s.recv(65536).decode(errors='replace')
    s.close()
    return reply.split('\\r\\n')[0]
print(json.dumps([cmd(c) for c in ${JSON.stringify(commands)}]))`

/**
 * Python for the kernel: every file under dir this account can read that holds one of the secrets
 * (given reversed, so that the code the kernel keeps in its history does not hold them), and the
 * environment variables that mention Redis or hold a secret.
 */
const secretsFromKernel = (dir: string, reversed: string[]) => `
import json, os
secrets = [s[::-1].encode() for s in ${JSON.stringify(reversed)}]
found, unreadable = [], 0
for root, dirs, files in os.walk(${JSON.stringify(dir)}):
    for f in files:
        p = os.path.join(root, f)
        try:
            with open(p, 'rb') as fh:
                data = fh.read()
        except OSError:
            unreadable += 1
            continue
        if any(s in data for s in secrets):
            found.append(p)
env = [k for k, v in os.environ.items() if 'REDIS' in k.upper() or any(s.decode() in v for s in secrets)]
print(json.dumps({'found': found, 'env': env, 'uid': os.getuid(), 'walked': ${JSON.stringify(dir)}}))`

describe.runIf(isRoot)('edgehub up with Redis ACLs', () => {
  it("works for the hub and the proxy, and gives a user's kernel nothing of Redis", async () => {
    const dir = dataDir()
    chmodSync(dir, 0o755) // as a data directory made with mkdir: others may enter it
    const u = await up(
      await stackEnv(dir, { EDGEHUB_PROXY_ACTIVITY_FLUSH_SEC: '1', EDGEHUB_SPAWNER_LOCAL_PROCESS_USER_PREFIX: prefix }),
    )
    const creds = readRedisCredentials(privateRedisDir(dir))!
    expect(creds.hub.username).toBe('edgehub-hub')
    expect(u.output()).not.toContain(creds.hub.password)
    expect(u.output()).not.toContain(creds.proxy.password)

    // the proxy logs in as its own user; its rendered config is the operator's only
    const nginxConf = join(dir, 'proxy', 'nginx.conf')
    expect(readFileSync(nginxConf, 'utf8')).toContain('username = "edgehub-proxy"')
    expect(statSync(nginxConf).mode & 0o777).toBe(0o600)

    // the hub works (login, token, spawn), the proxy routes with what it read as edgehub-proxy
    const admin = await loginAdmin(u)
    const { token } = await ownToken(admin, 'admin')
    await startServer(u.url, token, 'admin', { probe: '/user/admin/api/status', timeoutMs: 60_000 })
    const auth = { authorization: `token ${token}` }
    const res = await fetch(`${u.url}/user/admin/api/kernels`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(res.status).toBe(201)
    const { id } = await json(res)
    kernel = await openKernel(`${u.url.replace('http', 'ws')}/user/admin/api/kernels/${id}/channels`, auth)

    // the proxy's activity merge reaches Redis under its ACL user
    const redis = stackRedis(dir, u.redisPort)
    try {
      expect(await redis.call('ACL', 'WHOAMI')).toBe('edgehub-hub')
      await waitFor(
        "the proxy to write the server's activity",
        async () => !!(await redis.hget('edgehub:activity', 'admin/')),
        { timeoutMs: 10_000, intervalMs: 100 },
      )
    } finally {
      redis.disconnect()
    }

    // from the kernel: every command refused, whichever user it claims to be
    const attempts = [
      ['PING'],
      ['AUTH', 'default', ''],
      ['AUTH', 'edgehub-proxy', 'guess'],
      ['HELLO', '3', 'AUTH', 'default', ''],
      ['HSET', 'edgehub:user:admin', 'admin', '1'],
      ['HGETALL', 'edgehub:proxy:keys'],
      ['HGETALL', 'edgehub:proxy:routes'],
      ['CONFIG', 'GET', '*'],
      ['ACL', 'LIST'],
      ['INFO'],
    ]
    const { stdout } = await kernel.execute(redisFromKernel(u.redisPort, attempts))
    const replies = JSON.parse(stdout.trim().split('\n').pop()!) as string[]
    expect(replies).toHaveLength(attempts.length)
    replies.forEach((r, i) =>
      expect(r, attempts[i].join(' ')).toMatch(
        /^-(NOAUTH Authentication required|WRONGPASS invalid username-password pair or user is disabled)\./,
      ),
    )

    // from the kernel: no readable file of the data directory holds a Redis password, none is in its environment
    const reversed = [creds.hub.password, creds.proxy.password].map((s) => [...s].reverse().join(''))
    const seen = JSON.parse((await kernel.execute(secretsFromKernel(dir, reversed))).stdout.trim().split('\n').pop()!)
    expect(seen.uid).not.toBe(0)
    expect(seen.found).toEqual([])
    expect(seen.env).toEqual([])

    // the proxy never failed to log in or was refused a command
    const proxyLog = readFileSync(join(dir, 'proxy', 'logs', 'error.log'), 'utf8')
    expect(proxyLog).not.toMatch(/AUTH failed|NOPERM|NOAUTH|WRONGPASS/)
  })
})
