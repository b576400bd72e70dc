// JupyterHub's REST API (rest-api.yml of JupyterHub 6.0) in our own words: every path and method it
// documents, and the fields and types of the models its answers carry. Written from the spec for the
// contract suite (test/e2e/api/contract-*.test.ts); the spec itself is not part of this repository.

/** Every operation of the spec, as `METHOD /path` under /hub/api, with the spec's {placeholders}. */
export const SPEC_OPERATIONS = [
  'GET /',
  'GET /info',
  'GET /user',
  'GET /users',
  'POST /users',
  'GET /users/{name}',
  'POST /users/{name}',
  'PATCH /users/{name}',
  'DELETE /users/{name}',
  'POST /users/{name}/activity',
  'POST /users/{name}/server',
  'DELETE /users/{name}/server',
  'GET /users/{name}/servers/{server_name}',
  'PUT /users/{name}/servers/{server_name}',
  'POST /users/{name}/servers/{server_name}',
  'PATCH /users/{name}/servers/{server_name}',
  'DELETE /users/{name}/servers/{server_name}',
  'GET /users/{name}/shared',
  'GET /users/{name}/shared/{owner}/{server_name}',
  'DELETE /users/{name}/shared/{owner}/{server_name}',
  'GET /users/{name}/tokens',
  'POST /users/{name}/tokens',
  'GET /users/{name}/tokens/{token_id}',
  'DELETE /users/{name}/tokens/{token_id}',
  'GET /groups',
  'GET /groups/{name}',
  'POST /groups/{name}',
  'DELETE /groups/{name}',
  'GET /groups/{name}/shared',
  'GET /groups/{name}/shared/{owner}/{server_name}',
  'DELETE /groups/{name}/shared/{owner}/{server_name}',
  'POST /groups/{name}/users',
  'DELETE /groups/{name}/users',
  'PUT /groups/{name}/properties',
  'GET /shares/{owner}',
  'GET /shares/{owner}/{server_name}',
  'POST /shares/{owner}/{server_name}',
  'PATCH /shares/{owner}/{server_name}',
  'DELETE /shares/{owner}/{server_name}',
  'GET /share-codes/{owner}',
  'GET /share-codes/{owner}/{server_name}',
  'POST /share-codes/{owner}/{server_name}',
  'DELETE /share-codes/{owner}/{server_name}',
  'GET /services',
  'GET /services/{name}',
  'GET /proxy',
  'POST /proxy',
  'PATCH /proxy',
  'POST /authorizations/token',
  'GET /authorizations/token/{token}',
  'GET /authorizations/cookie/{cookie_name}/{cookie_value}',
  'GET /oauth2/authorize',
  'POST /oauth2/token',
  'POST /shutdown',
] as const

export type Operation = (typeof SPEC_OPERATIONS)[number]

/**
 * A field's type: a JSON type, `date-time` (a string that parses as a time), `string[]`, another
 * model by name, `Model[]` (a list of them) or `{Model}` (an object whose values are that model). `|null` allows null, which
 * the spec writes as a type of its own or, for fields it types as a plain string (a user's `server`,
 * a server's `started`, a token's `expires_at`), in the field's description ("null if not running",
 * "Null if there is no expiry"). A trailing `?` marks a field the spec says may be left out.
 */
export type FieldType = string
export type Model = Readonly<Record<string, FieldType>>

const server: Model = {
  name: 'string',
  display_name: 'string',
  ready: 'boolean',
  stopped: 'boolean',
  pending: 'string|null', // spawn, stop or none
  url: 'string',
  progress_url: 'string',
  full_url: 'string|null',
  full_progress_url: 'string|null',
  started: 'date-time|null', // null while stopped
  last_activity: 'date-time|null',
  state: 'object|null?', // only with admin:server_state; "None otherwise"
  user_options: 'object',
}

const token: Model = {
  id: 'string',
  user: 'string?', // "undefined if owned by a service"
  service: 'string?', // "undefined if owned by a user"
  roles: 'string[]',
  scopes: 'string[]',
  note: 'string|null',
  created: 'date-time',
  expires_at: 'date-time|null',
  last_activity: 'date-time|null',
  session_id: 'string|null',
}

const sharedServer: Model = { name: 'string', url: 'string', full_url: 'string|null', ready: 'boolean', user: 'Name' }

export const MODELS: Readonly<Record<string, Model>> = {
  Version: { version: 'string' },
  Info: {
    version: 'string',
    python: 'string',
    sys_executable: 'string',
    authenticator: 'Component',
    spawner: 'Component',
  },
  Component: { class: 'string', version: 'string' },
  Name: { name: 'string' },
  User: {
    name: 'string',
    kind: 'string',
    user_info: 'object?', // "optional dict" (6.0)
    admin: 'boolean',
    roles: 'string[]',
    groups: 'string[]',
    server: 'string|null',
    pending: 'string|null',
    last_activity: 'date-time|null',
    servers: '{Server}',
    auth_state: 'object|null?', // only with admin:auth_state
  },
  RequestIdentity: {
    name: 'string',
    kind: 'string',
    admin: 'boolean',
    roles: 'string[]',
    groups: 'string[]?', // users only
    session_id: 'string|null',
    scopes: 'string[]',
    token_id: 'string|null',
  },
  Server: server,
  Group: { name: 'string', kind: 'string', users: 'string[]', properties: 'object', roles: 'string[]' },
  Service: {
    name: 'string',
    kind: 'string',
    admin: 'boolean',
    roles: 'string[]',
    url: 'string|null',
    prefix: 'string|null',
    pid: 'number|null?', // "if managed"
    command: 'string[]|null?', // "if managed"
    info: 'object',
  },
  SharedServer: sharedServer,
  Share: { server: 'SharedServer', scopes: 'string[]', group: 'Name|null', user: 'Name|null', created_at: 'date-time' },
  ShareCode: {
    server: 'SharedServer',
    scopes: 'string[]',
    id: 'string',
    created_at: 'date-time',
    expires_at: 'date-time|null',
  },
  NewShareCode: {
    server: 'SharedServer',
    scopes: 'string[]',
    id: 'string',
    created_at: 'date-time',
    expires_at: 'date-time|null',
    code: 'string',
    accept_url: 'string',
    full_accept_url: 'string|null',
  },
  Pagination: { total: 'number', limit: 'number', offset: 'number', next: 'object|null' },
  Token: token,
  NewToken: { ...token, token: 'string' },
  TokenList: { api_tokens: 'Token[]' },
  OAuthToken: { access_token: 'string', token_type: 'string' },
}

export type ModelName = keyof typeof MODELS

function typeProblem(t: string, v: unknown, at: string): string[] {
  const alternatives = t.split('|')
  const errors: string[][] = []
  for (const a of alternatives) {
    const e = oneType(a, v, at)
    if (e.length === 0) return []
    errors.push(e)
  }
  return errors.length === 1 ? errors[0] : [`${at}: ${JSON.stringify(v)?.slice(0, 80)} is not ${t}`]
}

function oneType(t: string, v: unknown, at: string): string[] {
  const bad = [`${at}: ${JSON.stringify(v)?.slice(0, 80)} is not ${t}`]
  switch (t) {
    case 'null':
      return v === null ? [] : bad
    case 'string':
    case 'number':
    case 'boolean':
      return typeof v === t ? [] : bad
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? [] : bad
    case 'string[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? [] : bad
    case 'date-time':
      return typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? [] : bad
  }
  const list = /^(\w+)\[\]$/.exec(t)
  if (list) return Array.isArray(v) ? v.flatMap((x, i) => modelProblems(list[1], x, `${at}[${i}]`)) : bad
  const map = /^\{(\w+)\}$/.exec(t)
  if (map) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad
    return Object.entries(v).flatMap(([k, x]) => modelProblems(map[1], x, `${at}.${k}`))
  }
  if (t in MODELS) return modelProblems(t, v, at)
  throw new Error(`unknown type ${t} in the model descriptions`)
}

/**
 * What in `value` breaks the model: a field of the spec with another type, or missing (unless the
 * spec lets it be left out, or `absent` names it: fields the caller's scopes do not show). Fields the
 * spec does not name are not problems (JupyterHub adds some, as `created`; so does edgehub).
 */
export function modelProblems(
  name: string,
  value: unknown,
  at: string = name,
  absent: readonly string[] = [],
): string[] {
  const model = MODELS[name]
  if (!model) throw new Error(`no model ${name}`)
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${at}: ${JSON.stringify(value)?.slice(0, 80)} is not an object`]
  const obj = value as Record<string, unknown>
  const out: string[] = []
  for (const [field, raw] of Object.entries(model)) {
    const optional = raw.endsWith('?')
    const type = optional ? raw.slice(0, -1) : raw
    if (!(field in obj)) {
      if (!optional && !absent.includes(field)) out.push(`${at}.${field} is missing`)
      continue
    }
    out.push(...typeProblem(type, obj[field], `${at}.${field}`))
  }
  return out
}

/** The spec's fields of a model, without the `?` marks (for checking which ones an answer has). */
export const fieldsOf = (name: ModelName): string[] => Object.keys(MODELS[name])
