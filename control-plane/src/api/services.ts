// /hub/api/services[/{name}]: configured services, as JupyterHub's service model.
import { Hono } from 'hono'
import type { HubEnv } from '../http/env'
import { need, needSome, principal } from '../http/authorize'
import type { Deps } from '../deps'
import { NotFound } from '../../../runtime/src/errors'
import { has, type ScopeSet } from '../scopes/scope-set'
import { servicePrefix, serviceClientId } from '../services/registry'

const ACCESS: Record<string, readonly string[]> = {
  'read:services': [
    'kind',
    'name',
    'admin',
    'roles',
    'url',
    'prefix',
    'command',
    'pid',
    'info',
    'display',
    'oauth_client_id',
  ],
  'read:services:name': ['kind', 'name', 'admin'],
  'read:roles:services': ['kind', 'name', 'roles', 'admin'],
}
const READ = Object.keys(ACCESS)

export function serviceModel(d: Deps, name: string, scopes?: ScopeSet): Record<string, unknown> {
  const s = d.config.services.find((x) => x.name === name)
  const roles = d.roles.ofService(name)
  const full: Record<string, unknown> = {
    kind: 'service',
    name,
    admin: roles.includes('admin'),
    roles,
    url: s?.url ?? '',
    prefix: s?.url ? servicePrefix(name) : '',
    command: s?.command ?? [],
    pid: 0,
    info: s?.info ?? {},
    display: s?.display ?? false,
    oauth_client_id: serviceClientId(name),
  }
  if (!scopes) return full
  const allowed = new Set<string>()
  for (const [scope, fields] of Object.entries(ACCESS))
    if (has(scopes, scope, { service: name })) fields.forEach((f) => allowed.add(f))
  return Object.fromEntries(Object.entries(full).filter(([k]) => allowed.has(k)))
}

export function serviceApi(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()
  // An object keyed by name, as JupyterHub answers (its spec says a list).
  app.get('/', (c) => {
    const me = needSome(c, 'list:services')
    const d = c.var.deps
    const out: Record<string, unknown> = {}
    for (const s of d.config.services)
      if (has(me.scopes, 'list:services', { service: s.name })) out[s.name] = serviceModel(d, s.name, me.scopes)
    return c.json(out)
  })
  app.get('/:name', (c) => {
    const name = c.req.param('name')
    need(c, READ, { service: name })
    const d = c.var.deps
    if (!d.config.services.some((s) => s.name === name)) throw new NotFound(`no such service ${name}`)
    return c.json(serviceModel(d, name, principal(c)!.scopes))
  })
  return app
}
