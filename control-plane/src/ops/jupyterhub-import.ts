// `edgehub import-jupyterhub DB.sqlite`: users (admin flag, last activity), groups with members and
// properties, and roles from a JupyterHub database, through the hub's own state classes (as the REST
// API writes them). Roles are configuration in edgehub, as `load_roles` is in JupyterHub: they are
// written as a `roles:` block for the configuration file, not into Redis. API tokens cannot be
// carried over: JupyterHub keeps only a salted SHA-512 of each, and edgehub (hub and proxies) finds a
// token by its SHA-256 digest; each one is listed so that its owner can make a new one.
import { checkUsername } from '../../../auth/src'
import type { Deps } from '../deps'
import { DEFAULT_ROLES } from '../scopes/roles'
import { scopeProblem } from '../scopes/scope-set'
import { publishAccess } from '../scopes/edge'
import { groupNameProblem } from '../state/groups'
import type { JupyterHubData } from './jupyterhub-db'

export interface ImportedRole {
  name: string
  description: string
  scopes: string[]
  users: string[]
  groups: string[]
  services: string[]
}

export interface ImportReport {
  created: string[]
  existing: string[]
  groups: { created: string[]; existing: string[] }
  roles: ImportedRole[]
  /** One line for each thing not imported, with why. */
  skipped: string[]
  /** Tokens not carried over: whose, and what they were for (never their hash). */
  tokens: Array<{ owner: string; note: string; scopes: string[]; expiresAt?: string }>
}

const DEFAULT_ROLE_NAMES = new Set(DEFAULT_ROLES.map((r) => r.name))

export async function importJupyterHub(d: Deps, data: JupyterHubData): Promise<ImportReport> {
  const report: ImportReport = {
    created: [],
    existing: [],
    groups: { created: [], existing: [] },
    roles: [],
    skipped: [],
    tokens: [],
  }
  const known = new Set<string>()
  for (const u of data.users) {
    let name: string
    try {
      name = checkUsername(u.name)
    } catch (err) {
      report.skipped.push(`user ${JSON.stringify(u.name)}: ${(err as Error).message}`)
      continue
    }
    known.add(name)
    if (await d.users.get(name)) {
      // an account of this hub's own is left as it is (its admin flag included)
      report.existing.push(name)
      continue
    }
    await d.users.create(name, { admin: u.admin })
    if (u.lastActivity) await d.users.touch(name, new Date(u.lastActivity))
    report.created.push(name)
  }
  const touched = new Set<string>()
  for (const g of data.groups) {
    const problem = groupNameProblem(g.name)
    if (problem) {
      report.skipped.push(`group ${JSON.stringify(g.name)}: ${problem}`)
      continue
    }
    const members = g.users.filter((u) => known.has(u))
    if (await d.groups.get(g.name)) {
      report.groups.existing.push(g.name)
      if (members.length) await d.groups.addUsers(g.name, members)
    } else {
      await d.groups.create(g.name, members, g.properties)
      report.groups.created.push(g.name)
    }
    for (const u of members) touched.add(u)
  }
  // the proxies learn each member's groups (group grants on servers)
  for (const u of touched) await publishAccess(d, u)
  for (const r of data.roles) {
    if (DEFAULT_ROLE_NAMES.has(r.name)) continue // JupyterHub's own: the admin flag and defaults carry them
    const scopes = r.scopes.filter((s) => {
      const problem = scopeProblem(s)
      if (problem) report.skipped.push(`role ${r.name}: scope ${s}: ${problem}`)
      return !problem
    })
    report.roles.push({
      name: r.name,
      description: r.description,
      scopes,
      users: r.users.filter((u) => known.has(u)),
      groups: r.groups,
      services: r.services,
    })
  }
  for (const t of data.tokens) {
    report.tokens.push({
      owner: t.user ? t.user : `service ${t.service ?? '?'}`,
      note: t.note,
      scopes: t.scopes,
      expiresAt: t.expiresAt,
    })
  }
  return report
}
