// Groups named in the configuration (`groups`, JupyterHub's load_groups), applied at every hub
// start: missing groups and users are created, listed members added and, when given, properties
// replaced. Nothing is removed, as in JupyterHub: members added through the API, and groups no
// longer in the configuration, stay until the API removes them. Every step is idempotent and
// tolerates another replica doing the same at the same moment.
import type { Deps } from '../deps'
import { Conflict } from '../../../runtime/src/errors'
import { normalizeUsername } from '../../../auth/src'
import { publishAccess } from '../scopes/edge'
import type { Config } from '../config/schema'

type GroupEntry = Config['groups'][string]

/** JupyterHub's two forms: `[users]` (before 3.2) and `{users, properties}`. */
function contents(entry: GroupEntry): { users?: string[]; properties?: Record<string, unknown> } {
  return Array.isArray(entry) ? { users: entry } : entry
}

/** Every user the `groups` setting names (normalized). */
export function configuredGroupMembers(config: Pick<Config, 'groups'>): string[] {
  return [...new Set(Object.values(config.groups).flatMap((e) => (contents(e).users ?? []).map(normalizeUsername)))]
}

export async function loadConfiguredGroups(d: Deps): Promise<void> {
  for (const [name, entry] of Object.entries(d.config.groups)) {
    const { users = [], properties } = contents(entry)
    const members = [...new Set(users.map(normalizeUsername))]
    for (const user of members) await ensureUser(d, user, name)
    if (!(await d.groups.get(name))) {
      await d.groups.create(name).then(
        () => d.log.info('created a group named in the configuration', { group: name }),
        (err) => {
          if (!(err instanceof Conflict)) throw err // another replica made it meanwhile
        },
      )
    }
    const before = new Set(await d.groups.get(name).then((g) => g?.users ?? []))
    const added = members.filter((u) => !before.has(u))
    if (added.length) {
      await d.groups.addUsers(name, added)
      d.log.info('added members named in the configuration to a group', { group: name, users: added })
    }
    if (properties !== undefined) await d.groups.setProperties(name, properties)
    // roles given to the group now reach its new members at the proxy too
    for (const u of added) await publishAccess(d, u)
  }
}

async function ensureUser(d: Deps, name: string, group: string): Promise<void> {
  if (await d.users.get(name)) return
  await d.users.create(name).then(
    () => d.log.info('created a user named in a configured group', { user: name, group }),
    (err) => {
      if (!(err instanceof Conflict)) throw err // another replica made it meanwhile
    },
  )
}
