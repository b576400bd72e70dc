// Managed services: the leader keeps each configured command running, with the JupyterHub service
// environment and a fresh API token at every start. The process is found again through Redis (pid
// and start time), so a new leader adopts it instead of starting a second one.
import { mkdirSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { Deps } from '../deps'
import { alive, startDetached, stopTree } from '../../../runtime/src/process-tree'
import { registerServiceToken, serviceClientId, servicePrefix, type ServiceConfig } from './registry'

/** Waits this long after a quick exit before the next start, doubling up to a minute. */
const BACKOFF_MS = 1000
const MAX_BACKOFF_MS = 60_000

export function serviceEnv(d: Deps, s: ServiceConfig, token: string): Record<string, string> {
  const api = `${d.publicUrl}/hub/api`
  const prefix = servicePrefix(s.name)
  return {
    JUPYTERHUB_SERVICE_NAME: s.name,
    JUPYTERHUB_API_TOKEN: token,
    JUPYTERHUB_API_URL: api,
    JUPYTERHUB_BASE_URL: '/',
    JUPYTERHUB_HOST: '',
    JUPYTERHUB_PUBLIC_URL: d.publicUrl,
    JUPYTERHUB_CLIENT_ID: serviceClientId(s.name),
    JUPYTERHUB_OAUTH_CALLBACK_URL: s.oauthRedirectUri ?? `${prefix}oauth_callback`,
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: JSON.stringify([`access:services!service=${s.name}`]),
    JUPYTERHUB_OAUTH_SCOPES: JSON.stringify([`access:services!service=${s.name}`]),
    JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: JSON.stringify(s.oauthClientAllowedScopes),
    ...(s.url ? { JUPYTERHUB_SERVICE_URL: s.url, JUPYTERHUB_SERVICE_PREFIX: prefix } : {}),
    EDGEHUB_HUB_ID: d.hubId,
  }
}

interface ProcessRecord {
  pid: number
  startTime: string
  started: number
  failures: number
  notBefore: number
}

async function record(d: Deps, name: string): Promise<ProcessRecord | undefined> {
  const h = await d.redis.hgetall(d.keys.serviceProcess(name))
  if (!h.pid) return undefined
  return {
    pid: Number(h.pid),
    startTime: h.startTime,
    started: Number(h.started),
    failures: Number(h.failures || 0),
    notBefore: Number(h.notBefore || 0),
  }
}

async function start(d: Deps, s: ServiceConfig, failures: number): Promise<void> {
  const token = randomBytes(32).toString('base64url')
  await registerServiceToken(d, s, token)
  const cwd = s.cwd ?? join(d.config.dataDir, 'services', s.name)
  const logDir = join(d.config.dataDir, 'logs', 'services')
  mkdirSync(cwd, { recursive: true })
  mkdirSync(logDir, { recursive: true })
  const [cmd, ...args] = s.command!
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: cwd,
    LANG: process.env.LANG ?? 'C.UTF-8',
    ...s.env,
    ...serviceEnv(d, s, token),
  }
  const p = await startDetached(cmd, args, { cwd, env, logFile: join(logDir, `${s.name}.log`) })
  await d.redis
    .multi()
    .hset(d.keys.serviceProcess(s.name), {
      pid: p.pid,
      startTime: p.startTime,
      started: Date.now(),
      failures,
      notBefore: 0,
    })
    .sadd(d.keys.processServices, s.name)
    .exec()
  d.log.info('started managed service', { service: s.name, pid: p.pid })
}

/** One pass: start what is not running (after its backoff), stop what is no longer configured. */
export async function superviseServices(d: Deps): Promise<void> {
  const managed = d.config.services.filter((s) => s.command)
  for (const s of managed) {
    const rec = await record(d, s.name)
    if (rec && alive({ pid: rec.pid, startTime: rec.startTime })) continue
    const now = Date.now()
    if (rec && !rec.notBefore) {
      // it exited: back off when it did not last, so a crashing service does not spin
      const quick = now - rec.started < 10_000
      const failures = quick ? rec.failures + 1 : 0
      const wait = quick ? Math.min(MAX_BACKOFF_MS, BACKOFF_MS * 2 ** (failures - 1)) : 0
      d.log.warn('managed service exited', { service: s.name, pid: rec.pid, restart_in_ms: wait })
      await d.redis.hset(d.keys.serviceProcess(s.name), { failures, notBefore: now + wait })
      if (wait) continue
    } else if (rec && now < rec.notBefore) continue
    await start(d, s, rec?.failures ?? 0)
  }
  const names = new Set(managed.map((s) => s.name))
  await forEachRecorded(d, async (name) => {
    if (names.has(name)) return
    await stopRecorded(d, name)
    d.log.info('stopped a service no longer configured', { service: name })
  })
}

async function forEachRecorded(d: Deps, fn: (name: string) => Promise<void>): Promise<void> {
  for (const name of await d.redis.smembers(d.keys.processServices)) await fn(name)
}

async function stopRecorded(d: Deps, name: string): Promise<void> {
  const key = d.keys.serviceProcess(name)
  const h = await d.redis.hgetall(key)
  if (h.pid) await stopTree({ pid: Number(h.pid), startTime: h.startTime }, 5000)
  await d.redis.multi().del(key).srem(d.keys.processServices, name).exec()
}

/** Stops every managed service process (the whole stack is going down). */
export async function stopServices(d: Deps): Promise<void> {
  await forEachRecorded(d, (name) => stopRecorded(d, name))
}
