// The idle culler (what the jupyterhub-idle-culler service does, built in): stops servers nobody has
// used for timeoutSec, or running longer than maxAgeSec, and optionally deletes inactive users.
import type { Config } from '../config/schema'
import type { Deps } from '../deps'
import { latest } from '../state/activity'
import { deleteUser } from '../users/delete'

export interface CullResult {
  stopped: string[]
  removedUsers: string[]
}

export async function cullIdle(d: Deps, o: Config['culler'], now = Date.now()): Promise<CullResult> {
  const result: CullResult = { stopped: [], removedUsers: [] }
  const admins = new Map<string, boolean>()
  const isAdmin = async (name: string) => {
    if (!admins.has(name)) admins.set(name, (await d.users.get(name))?.admin ?? false)
    return admins.get(name)!
  }

  for (const { user, name } of await d.servers.active()) {
    const rec = await d.servers.get(user, name)
    if (rec?.state !== 'running' || (!o.admins && (await isAdmin(user)))) continue
    const seen = (await d.activity.ofUser(user, [name])).get(name)
    const last = Date.parse(latest(rec.lastActivity, seen, rec.started) ?? '') || now
    const idleSec = (now - last) / 1000
    const ageSec = rec.started ? (now - Date.parse(rec.started)) / 1000 : 0
    const why =
      idleSec > o.timeoutSec
        ? `idle for ${Math.round(idleSec)} s`
        : o.maxAgeSec > 0 && ageSec > o.maxAgeSec
          ? `running for ${Math.round(ageSec)} s`
          : ''
    if (!why) continue
    try {
      await d.orchestrator.stop(user, name, { remove: !!name && o.removeNamedServers })
      d.log.info('culled server', { user, server: name, why })
      result.stopped.push(`${user}/${name}`)
    } catch (err) {
      d.log.warn('failed to cull server', { user, server: name, err }) // being started or stopped: next round
    }
  }

  if (!o.users) return result
  const configuredAdmins = new Set(d.config.auth.admins)
  for (const name of await d.users.names()) {
    const u = await d.users.get(name)
    // admins named in the config are never deleted; nor are sign-ups waiting for approval
    if (!u || configuredAdmins.has(name) || !u.approved || (!o.admins && u.admin)) continue
    const servers = await d.servers.list(name)
    if (servers.some((s) => s.state !== 'stopped')) continue
    const seen = await d.activity.ofUser(
      name,
      servers.map((s) => s.name),
    )
    const last = latest(u.lastActivity, u.created, ...servers.map((s) => s.lastActivity), ...seen.values())
    if (!last || (now - Date.parse(last)) / 1000 <= o.timeoutSec) continue
    try {
      await deleteUser(d, name)
      result.removedUsers.push(name)
    } catch (err) {
      d.log.warn('failed to delete inactive user', { user: name, err }) // e.g. a server being started: next round
    }
  }
  return result
}
