// Changes to a server that is not running (JupyterHub 6's PUT and PATCH of a server, and the display
// name a start asks for), under the same per-server lock as starts and stops (spawn/lock.ts), so none
// of them can interleave with a spawn on any replica.
import type { Deps } from '../deps'
import { BadRequest, Conflict, NotFound } from '../errors'
import { serverClientId } from '../oauth/clients'
import type { ServerRecord } from '../state/servers'
import type { Json } from '../../../spawners/src/spawner'
import { acquireLock, type HeldLock } from './lock'
import { checkServerName } from './names'
import { checkNewServerName } from './new-server-name'

type Options = { [k: string]: Json }

export interface ServerChange {
  /** A new name (JupyterHub 6's rename). */
  name?: string
  displayName?: string
  userOptions?: Options
}

const ref = (user: string, server: string) => `${user}/${server}`

export class ServerEdits {
  constructor(private readonly d: Pick<Deps, 'redis' | 'keys' | 'servers' | 'shares' | 'oauthClients' | 'activity' | 'config' | 'log'>) {}

  private lock(user: string, server: string): Promise<HeldLock | null> {
    const { redis, keys, config } = this.d
    return acquireLock(redis, keys.serverLock(user, server), config.hub.serverLockLeaseSec * 1000, { replicas: config.redis.sentinel ? 1 : 0 })
  }

  private namedAllowed(): void {
    if (!this.d.config.hub.allowNamedServers) throw new BadRequest('named servers are not enabled on this hub', 'named_servers_disabled')
  }

  /**
   * hub.namedServerLimitPerUser when one more named server would be recorded: as JupyterHub counts
   * for a create (PUT) or a rename of the default server, every named server recorded, stopped ones too.
   */
  private async roomForNamed(user: string): Promise<void> {
    const limit = this.d.config.hub.namedServerLimitPerUser
    if (limit <= 0) return
    const named = (await this.d.servers.list(user)).filter((s) => s.name).length
    if (named >= limit) throw new BadRequest(`User ${user} already has the maximum of ${limit} named servers. One must be deleted before a new server can be created`, 'limit') // JupyterHub's words
  }

  /**
   * Creates a named server without starting it: Conflict when the user has a server of that name
   * (the default server always exists), BadRequest when named servers are off.
   */
  async create(user: string, server: string, fields: { displayName: string; userOptions: Options | null }): Promise<void> {
    checkServerName(server)
    if (!server) throw new Conflict(`${user} already has a default server`)
    this.namedAllowed()
    checkNewServerName(server)
    const lock = await this.lock(user, server)
    if (!lock) throw new Conflict(`${user} already has a server named ${server}`) // being started or stopped
    try {
      if (await this.d.servers.get(user, server)) throw new Conflict(`${user} already has a server named ${server}`)
      await this.roomForNamed(user)
      await this.d.servers.save(user, server, lock.guard, { state: 'stopped', started: null, stopped: null, failed: false, message: '', url: '', target: '', token: '', spawner: null, ...fields })
    } finally {
      await lock.release()
    }
  }

  /**
   * Sets the display name a start asks for, before the start: on the stopped record, or on a new
   * stopped record for a server that has none. An active server is left alone (its start is refused
   * or already under way).
   */
  async nameForStart(user: string, server: string, displayName: string): Promise<void> {
    const lock = await this.lock(user, server)
    if (!lock) return
    try {
      const rec = await this.d.servers.get(user, server)
      if (!rec && server) checkNewServerName(server) // the start would record it
      if (rec && rec.state !== 'stopped') return
      if (rec?.displayName === displayName) return
      await this.d.servers.save(user, server, lock.guard, rec ? { displayName } : { state: 'stopped', started: null, stopped: null, displayName })
    } finally {
      await lock.release()
    }
  }

  /**
   * Changes a stopped server: its display name, its user_options, and with `name` its name. A
   * renamed server keeps its record (options, times); its shares, share codes, OAuth client and
   * reported activity, which name the old server, are dropped. Returns the record as it now is.
   * NotFound without a record (the default server always exists, as in JupyterHub: one that never
   * started is recorded now), BadRequest while it is active, Conflict when the new name is taken.
   */
  async modify(user: string, server: string, change: ServerChange): Promise<ServerRecord> {
    checkServerName(server)
    const to = change.name ?? server
    if (to !== server) {
      if (to === '') throw new BadRequest('a server cannot be renamed to the default server', 'invalid_name')
      checkNewServerName(to)
      this.namedAllowed()
    }
    const lock = await this.lock(user, server)
    if (!lock) throw new BadRequest(`${ref(user, server)} is being started or stopped`, 'pending')
    try {
      const stored = await this.d.servers.get(user, server)
      const rec = stored ?? (server === '' ? neverStarted(user) : undefined)
      if (!rec) throw new NotFound(`${user} has no server ${server || '(default)'}`)
      if (rec.state !== 'stopped') throw new BadRequest(`${ref(user, server)} is active; stop it before modifying it`, 'running')
      const fields = {
        ...(change.displayName !== undefined ? { displayName: change.displayName } : {}),
        ...(change.userOptions !== undefined ? { userOptions: change.userOptions } : {}),
      }
      if (to === server) {
        const { user: _u, name: _n, ...whole } = rec
        await this.d.servers.save(user, server, lock.guard, stored ? fields : { ...whole, ...fields })
        return (await this.d.servers.get(user, server))!
      }
      const target = await this.lock(user, to)
      if (!target) throw new Conflict(`${user} already has a server named ${to}`)
      try {
        if (await this.d.servers.get(user, to)) throw new Conflict(`${user} already has a server named ${to}`)
        if (server === '') await this.roomForNamed(user) // a new default server takes its place
        await lock.check()
        const { user: _user, name: _name, ...kept } = rec
        await this.d.servers.save(user, to, target.guard, { ...kept, ...fields })
        if (stored) await this.d.servers.remove(user, server)
        await this.d.shares.forgetServer(user, server)
        await this.d.oauthClients.remove(serverClientId(user, server))
        await this.d.activity.forget(user, server)
        this.d.log.info('server renamed', { user, server, to })
        return (await this.d.servers.get(user, to))!
      } finally {
        await target.release()
      }
    } finally {
      await lock.release()
    }
  }
}

/** The record of a default server that never started (JupyterHub always has one). */
function neverStarted(user: string): ServerRecord {
  return {
    user, name: '', state: 'stopped', url: '', target: '', token: '', spawner: null, started: null, stopped: null, lastActivity: null, log: '', message: '', failed: false, userOptions: null, displayName: '',
  }
}
