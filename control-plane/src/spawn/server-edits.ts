// Changes to a server that is not running (JupyterHub 6's PUT and PATCH of a server), under the same
// per-server lock as starts and stops (spawn/lock.ts), so none of them can interleave with a spawn on
// any replica.
import type { Deps } from '../deps'
import { BadRequest, Conflict, NotFound } from '../../../runtime/src/errors'
import { serverClientId } from '../oauth/clients'
import { neverStarted, type ServerRecord } from '../state/servers'
import type { Json } from '../../../spawners/src'
import { acquireLock, type HeldLock } from './lock'
import { waitFor } from '../../../runtime/src/wait'
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
  constructor(
    private readonly d: Pick<
      Deps,
      'redis' | 'keys' | 'servers' | 'shares' | 'oauthClients' | 'activity' | 'config' | 'log'
    >,
  ) {}

  private lock(user: string, server: string): Promise<HeldLock | null> {
    const { redis, keys, config } = this.d
    return acquireLock(redis, keys.serverLock(user, server), config.hub.serverLockLeaseSec * 1000, {
      replicas: config.redis.sentinel ? 1 : 0,
    })
  }

  private namedAllowed(): void {
    if (!this.d.config.hub.allowNamedServers)
      throw new BadRequest('named servers are not enabled on this hub', 'named_servers_disabled')
  }

  /**
   * Runs `record` (which records one more named server) within hub.namedServerLimitPerUser: as
   * JupyterHub counts for a create (PUT) or a rename of the default server, every named server
   * recorded, stopped ones too. Counting and recording hold the user's named-servers lock, so two
   * creates at once on any replicas cannot both take the last place.
   */
  private async withRoomForNamed<T>(user: string, record: () => Promise<T>): Promise<T> {
    const limit = this.d.config.hub.namedServerLimitPerUser
    if (limit <= 0) return record()
    const { redis, keys, config } = this.d
    const lock = await waitFor(
      `the named-servers lock of ${user}`,
      () =>
        acquireLock(redis, keys.namedServersLock(user), config.hub.serverLockLeaseSec * 1000, {
          replicas: config.redis.sentinel ? 1 : 0,
        }),
      { timeoutMs: 10_000, intervalMs: 20 },
    )
    try {
      const named = (await this.d.servers.list(user)).filter((s) => s.name).length
      if (named >= limit)
        throw new BadRequest(
          `User ${user} already has the maximum of ${limit} named servers. One must be deleted before a new server can be created`,
          'limit',
        ) // JupyterHub's words
      await lock.check()
      return await record()
    } finally {
      await lock.release()
    }
  }

  /**
   * Creates a named server without starting it: Conflict when the user has a server of that name
   * (the default server always exists), BadRequest when named servers are off.
   */
  async create(
    user: string,
    server: string,
    fields: { displayName: string; userOptions: Options | null },
  ): Promise<void> {
    checkServerName(server)
    if (!server) throw new Conflict(`${user} already has a default server`)
    this.namedAllowed()
    checkNewServerName(server)
    const lock = await this.lock(user, server)
    if (!lock) throw new Conflict(`${user} already has a server named ${server}`) // being started or stopped
    try {
      if (await this.d.servers.get(user, server)) throw new Conflict(`${user} already has a server named ${server}`)
      await this.withRoomForNamed(user, () =>
        this.d.servers.save(user, server, lock.guard, {
          state: 'stopped',
          started: null,
          stopped: null,
          failed: false,
          message: '',
          url: '',
          target: '',
          token: '',
          spawner: null,
          ...fields,
        }),
      )
    } finally {
      await lock.release()
    }
  }

  /**
   * Changes a stopped server: its display name, its user_options, and with `name` its name. A
   * renamed server keeps its record (options, times), its shares and share codes (moved to the new
   * name); its OAuth client and reported activity, which name the old server, are dropped. The caller
   * has checked start:servers on both names. Returns the record as it now is.
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
      if (rec.state !== 'stopped')
        throw new BadRequest(`${ref(user, server)} is active; stop it before modifying it`, 'running')
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
        await lock.check()
        const { user: _user, name: _name, ...kept } = rec
        const save = () => this.d.servers.save(user, to, target.guard, { ...kept, ...fields })
        // renaming the default server records one more named server (a new default takes its place)
        await (server === '' ? this.withRoomForNamed(user, save) : save())
        if (stored) await this.d.servers.remove(user, server)
        // shares and share codes follow the server, as in JupyterHub (a share belongs to the server)
        await this.d.shares.moveServer(user, server, to)
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
