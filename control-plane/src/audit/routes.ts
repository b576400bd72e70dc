// Which requests are audited actions: the REST API's (paths below /hub/api) and the pages' forms
// (paths below /hub) that change users, groups, tokens, servers, shares and grants. Matched once,
// after the handler answered, so the event carries the outcome the caller saw.
import type { AuditAction } from './events'

type P = Record<string, string>
interface Rule {
  method: string
  path: RegExp
  action: AuditAction | ((p: P, body: Record<string, unknown> | undefined) => AuditAction)
  target: (p: P) => string
}

/** '/users/:user/servers/:server' as a pattern; '/:name?' is an optional last part. */
const re = (s: string) =>
  new RegExp(`^${s.replace(/\/:(\w+)(\?)?/g, (_m, n, opt) => (opt ? `(?:/(?<${n}>[^/]*))?` : `/(?<${n}>[^/]*)`))}/?$`)
const serverOf = (p: P) => `${dec(p.user)}/${dec(p.server ?? '')}`
const dec = (s: string | undefined) => {
  try {
    return decodeURIComponent(s ?? '')
  } catch {
    return s ?? ''
  }
}

/** Below /hub/api. */
const API: Rule[] = [
  { method: 'POST', path: re('/users'), action: 'user.create', target: () => '' },
  { method: 'POST', path: re('/users/:user'), action: 'user.create', target: (p) => dec(p.user) },
  { method: 'PATCH', path: re('/users/:user'), action: 'user.modify', target: (p) => dec(p.user) },
  { method: 'DELETE', path: re('/users/:user'), action: 'user.delete', target: (p) => dec(p.user) },
  {
    method: 'DELETE',
    path: re('/users/:user/login-failures'),
    action: 'login-failures.clear',
    target: (p) => dec(p.user),
  },
  { method: 'POST', path: re('/users/:user/server'), action: 'server.start', target: serverOf },
  { method: 'DELETE', path: re('/users/:user/server'), action: 'server.stop', target: serverOf },
  { method: 'POST', path: re('/users/:user/servers/:server'), action: 'server.start', target: serverOf },
  {
    method: 'DELETE',
    path: re('/users/:user/servers/:server'),
    action: (_p, b) => (b?.remove ? 'server.delete' : 'server.stop'),
    target: serverOf,
  },
  { method: 'POST', path: re('/users/:user/tokens'), action: 'token.create', target: (p) => dec(p.user) },
  {
    method: 'DELETE',
    path: re('/users/:user/tokens/:id'),
    action: 'token.revoke',
    target: (p) => `${dec(p.user)}/${dec(p.id)}`,
  },
  { method: 'POST', path: re('/groups'), action: 'group.create', target: () => '' },
  { method: 'POST', path: re('/groups/:group'), action: 'group.create', target: (p) => dec(p.group) },
  { method: 'DELETE', path: re('/groups/:group'), action: 'group.delete', target: (p) => dec(p.group) },
  { method: 'PATCH', path: re('/groups/:group'), action: 'group.modify', target: (p) => dec(p.group) },
  { method: 'POST', path: re('/groups/:group/users'), action: 'group.members.add', target: (p) => dec(p.group) },
  { method: 'DELETE', path: re('/groups/:group/users'), action: 'group.members.remove', target: (p) => dec(p.group) },
  { method: 'PUT', path: re('/groups/:group/properties'), action: 'group.properties', target: (p) => dec(p.group) },
  { method: 'POST', path: re('/shares/:user/:server'), action: 'share.create', target: serverOf },
  { method: 'PATCH', path: re('/shares/:user/:server'), action: 'share.revoke', target: serverOf },
  { method: 'DELETE', path: re('/shares/:user/:server'), action: 'share.revoke', target: serverOf },
  { method: 'POST', path: re('/share-codes/:user/:server'), action: 'share-code.create', target: serverOf },
  { method: 'DELETE', path: re('/share-codes/:user/:server'), action: 'share-code.revoke', target: serverOf },
  {
    method: 'DELETE',
    path: re('/users/:user/shared/:owner/:server'),
    action: 'share.revoke',
    target: (p) => `${dec(p.owner)}/${dec(p.server)}`,
  },
  {
    method: 'DELETE',
    path: re('/groups/:group/shared/:owner/:server'),
    action: 'share.revoke',
    target: (p) => `${dec(p.owner)}/${dec(p.server)}`,
  },
  { method: 'POST', path: re('/proxy'), action: 'proxy.reload', target: () => '' },
  { method: 'PATCH', path: re('/proxy'), action: 'proxy.reload', target: () => '' },
  { method: 'POST', path: re('/shutdown'), action: 'hub.shutdown', target: () => '' },
]

/** Below /hub: the pages' own forms (the admin page's go through the API, audited there). */
const PAGES: Rule[] = [
  { method: 'POST', path: re('/token'), action: 'token.create', target: () => '' },
  { method: 'POST', path: re('/token/:id/revoke'), action: 'token.revoke', target: (p) => dec(p.id) },
  { method: 'POST', path: re('/token/client/:client/revoke'), action: 'oauth.revoke', target: (p) => dec(p.client) },
  { method: 'POST', path: re('/token/oidc/:grant/revoke'), action: 'oidc.revoke', target: (p) => dec(p.grant) },
  { method: 'POST', path: re('/spawn'), action: 'server.start', target: (p) => `${p.self}/` },
  { method: 'POST', path: re('/spawn/:user/:server?'), action: 'server.start', target: serverOf },
  { method: 'POST', path: re('/stop'), action: 'server.stop', target: (p) => `${p.self}/` },
  { method: 'POST', path: re('/stop/:user/:server?'), action: 'server.stop', target: serverOf },
  { method: 'POST', path: re('/delete/:user/:server'), action: 'server.delete', target: serverOf },
  { method: 'POST', path: re('/share/:user/:server?'), action: 'share.modify', target: serverOf },
  { method: 'POST', path: re('/accept-share'), action: 'share.accept', target: () => '' },
  { method: 'POST', path: re('/change-password'), action: 'password.change', target: () => '' },
  { method: 'POST', path: re('/admin/approve/:user'), action: 'user.approve', target: (p) => dec(p.user) },
  { method: 'POST', path: re('/admin/two-factor-reset'), action: 'two-factor.reset', target: () => '' },
]

export interface AuditedRoute {
  action: AuditAction
  target: string
}

function match(
  rules: Rule[],
  method: string,
  path: string,
  body?: Record<string, unknown>,
  self = '',
): AuditedRoute | null {
  for (const r of rules) {
    if (r.method !== method) continue
    const m = r.path.exec(path)
    if (!m) continue
    const p = { ...m.groups, self } as P
    return { action: typeof r.action === 'function' ? r.action(p, body) : r.action, target: r.target(p) }
  }
  return null
}

export const apiAction = (method: string, path: string, body?: Record<string, unknown>) =>
  match(API, method, path, body)
/** self: the caller's name, for the forms that act on their own default server. */
export const pageAction = (method: string, path: string, self = '') => match(PAGES, method, path, undefined, self)
