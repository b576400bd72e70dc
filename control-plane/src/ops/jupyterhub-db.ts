// Reads a JupyterHub database (SQLite) with Debian's sqlite3 (`sqlite3 -json -readonly`): users,
// groups and their members, roles and whom they are given to, and API tokens as JupyterHub keeps
// them (a salted hash: their value cannot be read back). Nothing is written to the database.
import { execFileSync } from 'node:child_process'
import { HubError } from '../../../runtime/src/errors'

/**
 * The alembic revisions whose tables this reader knows, newest last: JupyterHub 3.0's head
 * (651f5419b74d, tested with Debian's jupyterhub 3.0), then JupyterHub 4's (0eee8c825d24: groups get
 * `properties`; 3c2384c5aae1: services get `from_config`) and JupyterHub 5's (4621fec11365: roles and
 * role maps get `managed_by_auth`). The later ones only add columns this reader ignores or reads
 * when present; the share tables of JupyterHub 5 are not read.
 */
export const JUPYTERHUB_REVISIONS: Record<string, string> = {
  '651f5419b74d': 'JupyterHub 3.0',
  '0eee8c825d24': 'JupyterHub 4.0 (group properties)',
  '3c2384c5aae1': 'JupyterHub 4.0 (services from_config)',
  '4621fec11365': 'JupyterHub 5 (roles managed by the authenticator)',
}

export interface JhUser {
  name: string
  admin: boolean
  /** ISO times, UTC (JupyterHub stores naive UTC). */
  created?: string
  lastActivity?: string
}
export interface JhGroup {
  name: string
  users: string[]
  properties: Record<string, unknown>
}
export interface JhRole {
  name: string
  description: string
  scopes: string[]
  users: string[]
  groups: string[]
  services: string[]
}
export interface JhToken {
  user?: string
  service?: string
  note: string
  scopes: string[]
  created?: string
  expiresAt?: string
  /** JupyterHub's `sha512:<rounds>:<salt>:<hex>`. */
  hashed: string
}
export interface JupyterHubData {
  revision: string
  release: string
  users: JhUser[]
  groups: JhGroup[]
  roles: JhRole[]
  tokens: JhToken[]
}

export class BadJupyterHubDb extends HubError {
  constructor(file: string, why: string) {
    super(400, `${file}: ${why}`, 'bad_jupyterhub_db', { expose: true })
  }
}

type Row = Record<string, string | number | null>

/** One query's rows (sqlite3 prints nothing at all for none). */
function query(file: string, sql: string): Row[] {
  let out: string
  try {
    out = execFileSync('sqlite3', ['-json', '-readonly', file, sql], { encoding: 'utf8', maxBuffer: 1 << 30 })
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string }
    if (e.code === 'ENOENT') throw new BadJupyterHubDb(file, 'needs the sqlite3 program: apt-get install sqlite3')
    throw new BadJupyterHubDb(file, `sqlite3 could not read it: ${(e.stderr ?? e.message).trim().split('\n')[0]}`)
  }
  return out.trim() ? (JSON.parse(out) as Row[]) : []
}

/** JupyterHub's naive UTC `2021-03-04 05:06:07.000000` as ISO 8601. */
function isoTime(v: string | number | null | undefined): string | undefined {
  if (typeof v !== 'string' || !v) return undefined
  const d = new Date(`${v.replace(' ', 'T').replace(/(\.\d{3})\d*$/, '$1')}Z`)
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString()
}

function jsonOf<T>(v: string | number | null | undefined, fallback: T): T {
  if (typeof v !== 'string' || !v) return fallback
  try {
    return JSON.parse(v) as T
  } catch {
    return fallback
  }
}

export function readJupyterHubDb(file: string): JupyterHubData {
  const tables = new Set(query(file, "SELECT name FROM sqlite_master WHERE type = 'table'").map((r) => String(r.name)))
  if (!tables.has('alembic_version') || !tables.has('users'))
    throw new BadJupyterHubDb(file, 'not a JupyterHub database (no alembic_version or users table)')
  const revision = String(query(file, 'SELECT version_num FROM alembic_version')[0]?.version_num ?? '')
  const release = JUPYTERHUB_REVISIONS[revision]
  if (!release)
    throw new BadJupyterHubDb(
      file,
      `its schema revision ${revision || '(none)'} is not one this import knows (${Object.keys(JUPYTERHUB_REVISIONS).join(', ')}): upgrade it with JupyterHub 3.0 or newer first (jupyterhub upgrade-db)`,
    )
  const userNames = new Map<number, string>()
  const users: JhUser[] = query(file, 'SELECT id, name, admin, created, last_activity FROM users ORDER BY name').map(
    (r) => {
      userNames.set(Number(r.id), String(r.name))
      return {
        name: String(r.name),
        admin: Number(r.admin) === 1,
        created: isoTime(r.created),
        lastActivity: isoTime(r.last_activity),
      }
    },
  )
  const groupColumns = new Set(query(file, "SELECT name FROM pragma_table_info('groups')").map((r) => String(r.name)))
  const groupNames = new Map<number, string>()
  const groups: JhGroup[] = query(
    file,
    `SELECT id, name${groupColumns.has('properties') ? ', properties' : ''} FROM groups ORDER BY name`,
  ).map((r) => {
    groupNames.set(Number(r.id), String(r.name))
    return { name: String(r.name), users: [], properties: jsonOf(r.properties, {}) }
  })
  const groupByName = new Map(groups.map((g) => [g.name, g]))
  for (const r of query(file, 'SELECT user_id, group_id FROM user_group_map')) {
    const u = userNames.get(Number(r.user_id))
    const g = groupByName.get(groupNames.get(Number(r.group_id)) ?? '')
    if (u && g) g.users.push(u)
  }
  for (const g of groups) g.users.sort()
  const serviceNames = new Map<number, string>(
    tables.has('services')
      ? query(file, 'SELECT id, name FROM services').map((r) => [Number(r.id), String(r.name)])
      : [],
  )
  const roles: JhRole[] = []
  if (tables.has('roles')) {
    const byId = new Map<number, JhRole>()
    for (const r of query(file, 'SELECT id, name, description, scopes FROM roles ORDER BY name')) {
      const role = {
        name: String(r.name),
        description: String(r.description ?? ''),
        scopes: jsonOf<string[]>(r.scopes, []),
        users: [] as string[],
        groups: [] as string[],
        services: [] as string[],
      }
      byId.set(Number(r.id), role)
      roles.push(role)
    }
    const maps = [
      ['user_role_map', 'user_id', userNames, 'users'],
      ['group_role_map', 'group_id', groupNames, 'groups'],
      ['service_role_map', 'service_id', serviceNames, 'services'],
    ] as const
    for (const [table, column, names, field] of maps) {
      if (!tables.has(table)) continue
      for (const r of query(file, `SELECT ${column} AS who, role_id FROM ${table}`)) {
        const name = names.get(Number(r.who))
        if (name) byId.get(Number(r.role_id))?.[field].push(name)
      }
    }
    for (const role of roles) for (const list of [role.users, role.groups, role.services]) list.sort()
  }
  const tokens: JhToken[] = query(
    file,
    'SELECT user_id, service_id, note, scopes, created, expires_at, hashed FROM api_tokens ORDER BY id',
  ).map((r) => ({
    user: r.user_id === null ? undefined : userNames.get(Number(r.user_id)),
    service: r.service_id === null ? undefined : serviceNames.get(Number(r.service_id)),
    note: String(r.note ?? ''),
    scopes: jsonOf<string[]>(r.scopes, []),
    created: isoTime(r.created),
    expiresAt: isoTime(r.expires_at),
    hashed: String(r.hashed ?? ''),
  }))
  return { revision, release, users, groups, roles, tokens }
}
