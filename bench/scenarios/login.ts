// Scenario 5: login storm. N users post the login form at the same moment (POST /hub/login through
// the proxy, native authenticator, passwords hashed with the default scrypt cost). Reported: logins/s,
// latency percentiles, and the share of the hub's CPU spent hashing passwords. The baseline is the
// hashing alone: the same scrypt verifications run in a bare Node process on the same machine, with
// the same parallelism (libuv's thread pool) — the most logins/s any hub could do with this cost.
// Login throttling (auth.throttle) is on, as by default: every login asks Redis whether its name and
// address must wait, and a storm of right passwords must not be made to (no 429 answer).
import { fork } from 'node:child_process'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Agent, request } from 'undici'
import { hashPassword } from '../../auth/src/native/password'
import { SESSION_COOKIE, XSRF_COOKIE } from '../../control-plane/src/protocol'
import { benchUsers, params } from '../lib/params'
import { startReplicaStack } from '../lib/hub-replicas'
import { cpuSeconds } from '../lib/proc'
import { ratio, round, summary } from '../lib/stats'
import type { Scenario, ScenarioContext } from '../lib/types'
import { check, reported } from '../lib/verdict'

const HASHER = join(import.meta.dirname, '../lib/scrypt-rate.ts')

/** Verifications/s and CPU ms per verification of `count` scrypt checks at cost N, in a fresh process. */
function hashingAlone(N: number, count: number): Promise<{ perSec: number; cpuMsEach: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(HASHER, [String(N), String(count)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    child.once('message', (m) => resolve(m as { perSec: number; cpuMsEach: number }))
    child.once('error', reject)
    child.once('exit', (code) => code && reject(new Error(`scrypt-rate exited with ${code}`)))
  })
}

export const scenario: Scenario = {
  name: 'login',
  title: 'Login storm: N users post the login form at once (native authenticator, default scrypt cost)',
  async run(ctx: ScenarioContext) {
    const p = params.login
    const names = benchUsers(ctx.quick ? 20 : p.users)
    const n = names.length

    ctx.progress(`starting Redis, a hub and a proxy; ${n} users with passwords`)
    const stack = await startReplicaStack({ dir: join(ctx.dir, 'stack'), cleanups: ctx.cleanups })
    const N = stack.config.auth.native.scryptCost
    const throttle = stack.config.auth.throttle
    if (!throttle.enabled) throw new Error('the login storm measures logins with auth.throttle on')
    const hub = await stack.startHub()
    const proxy = await stack.startProxy([hub])
    // One hash for every user (each login still runs a full verification): seeding stays quick.
    const stored = await hashPassword(p.password, N)
    await Promise.all(names.map((name) => stack.deps.users.create(name, { passwordHash: stored })))

    const agent = new Agent({ connections: null, keepAliveTimeout: 30_000 })
    ctx.cleanups.push(() => agent.close())
    // The login form's XSRF token, as a browser gets it: from the page. A token is bound to the client
    // (address and user agent) until it logs in, so one page serves every login of this client.
    const page = await request(`${proxy.url}/hub/login`, { dispatcher: agent })
    await page.body.dump()
    const xsrf = ([] as string[])
      .concat(page.headers['set-cookie'] ?? [])
      .map((c) => c.split(';')[0])
      .find((c) => c.startsWith(`${XSRF_COOKIE}=`))
      ?.slice(XSRF_COOKIE.length + 1)
    if (!xsrf) throw new Error(`GET /hub/login set no ${XSRF_COOKIE} cookie`)
    const login = async (name: string): Promise<{ ok: boolean; status: number | string; ms: number }> => {
      const t0 = performance.now()
      try {
        const res = await request(`${proxy.url}/hub/login`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `${XSRF_COOKIE}=${xsrf}` },
          body: new URLSearchParams({ _xsrf: xsrf, username: name, password: p.password }).toString(),
          headersTimeout: 120_000,
        })
        await res.body.dump()
        const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? [])
        const ok =
          res.statusCode === 302 &&
          cookies.some((c) => c.startsWith(`${SESSION_COOKIE}=`) && !c.startsWith(`${SESSION_COOKIE}=;`))
        return { ok, status: res.statusCode, ms: performance.now() - t0 }
      } catch (err) {
        return { ok: false, status: (err as { code?: string }).code ?? 'network', ms: performance.now() - t0 }
      }
    }

    ctx.progress('warm-up login')
    const warm = await login(names[0])
    if (!warm.ok) throw new Error(`the warm-up login answered ${warm.status}`)

    ctx.progress(`${n} logins at once`)
    const hubCpu0 = cpuSeconds([hub.pid])
    const t0 = performance.now()
    const results = await Promise.all(names.map(login))
    const wallMs = performance.now() - t0
    const hubCpu = cpuSeconds([hub.pid]) - hubCpu0
    const failed = results.filter((r) => !r.ok)
    const throttled = results.filter((r) => r.status === 429).length
    // every login succeeded or failed for another reason: no name may be left with a failure count
    const counted = (
      await Promise.all(names.map((name) => stack.deps.redis.exists(stack.deps.keys.loginFail(name))))
    ).filter(Boolean).length
    const lat = summary(results.filter((r) => r.ok).map((r) => r.ms))
    const loginsPerSec = round(((n - failed.length) * 1000) / wallMs, 1)

    ctx.progress('the same verifications in a bare Node process (baseline)')
    const alone = await hashingAlone(N, n)
    const hashShare = round((100 * n * alone.cpuMsEach) / 1000 / Math.max(hubCpu, 1e-9), 1)
    const vsHashing = ratio(loginsPerSec, alone.perSec)

    return {
      metrics: {
        users: n,
        scryptCost: N,
        wallMs: round(wallMs),
        loginsPerSec,
        latencyMs: lat,
        failed: failed.length,
        failedStatuses: failed.map((f) => f.status),
        throttle: { ...throttle, throttled, namesWithFailures: counted },
        hubCpuSeconds: round(hubCpu, 2),
        hubCpuMsPerLogin: round((hubCpu * 1000) / n, 2),
        hashingAlone: alone,
        hashingSharePct: hashShare,
        loginsVsHashingAlone: vsHashing,
      },
      tables: [
        {
          title: `Login storm: ${n} users at once, scrypt N=${N} (${cpus().length} cores)`,
          columns: ['system', 'logins/s', 'p50 ms', 'p99 ms', 'max ms', 'CPU ms per login', 'failed'],
          rows: [
            [
              'edgehub: POST /hub/login through the proxy',
              loginsPerSec,
              lat.p50,
              lat.p99,
              lat.max,
              round((hubCpu * 1000) / n, 1),
              failed.length,
            ],
            [
              'scrypt verification alone (bare Node, same thread pool)',
              round(alone.perSec, 1),
              '',
              '',
              '',
              round(alone.cpuMsEach, 1),
              0,
            ],
          ],
        },
      ],
      targets: [
        check('login storm: every login succeeds', `${n} of ${n}`, `${n - failed.length} of ${n}`, failed.length === 0),
        check(
          'login storm with auth.throttle on: no login made to wait',
          '0 answers 429',
          `${throttled} answers 429, ${counted} names with failures`,
          throttled === 0 && counted === 0,
        ),
        reported(
          'login storm: logins/s / scrypt verification alone',
          `${vsHashing} (${loginsPerSec} logins/s, p99 ${lat.p99} ms)`,
        ),
      ],
      notes: [
        `logins/s is ${vsHashing}× what scrypt verification alone achieves on this machine; password hashing is ${hashShare}% of the hub's CPU time during the storm (verifications × CPU per verification measured alone ÷ hub CPU seconds). The rest is the HTTP request, the form, the session write and the cookie.`,
        `Login throttling was on (auth.throttle: ${throttle.freeFailures} free failures per name, ${throttle.addressFreeFailures} per address, lock at ${throttle.lockoutFailures}); it costs each login one pipelined Redis read before the password check and one DEL after a success, within the figures above.`,
        `scrypt runs on libuv's thread pool (${process.env.UV_THREADPOOL_SIZE ?? 4} threads) off the event loop, so logins are bound by the cores, not by the hub's single thread; a bigger hub.native scryptCost costs logins/s in proportion.`,
      ],
    }
  },
}
