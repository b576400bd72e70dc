// Groups: a name, free-form properties and members. Membership is kept both ways (group → users,
// user → groups) in one MULTI so neither side is seen without the other.
import type { Redis } from 'ioredis'
import { BadRequest, Conflict, NotFound } from '../../../runtime/src/errors'
import type { KeyNames } from './keys'
import { decodeJson, isObject } from './undecodable'

export interface GroupRecord {
  name: string
  properties: Record<string, unknown>
  users: string[]
}

/** A readable reason when a group name is unusable (undefined when fine). */
export function groupNameProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > 255) return 'group names are 1 to 255 characters'
  if (/[\u0000-\u001f\u007f/\\]/.test(name) || name === '.' || name === '..')
    return `invalid group name ${JSON.stringify(name)}: no slashes, control characters, "." or ".."`
  if (name.trim() !== name) return 'group names may not start or end with spaces'
  return undefined
}

// KEYS: group hash, members set, user-groups key prefix (with an empty user). ARGV: name, users...
// Checks and adds in one step, so a group deleted meanwhile is not brought back with members only.
const ADD_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'name') == 0 then return 0 end
for i = 2, #ARGV do
  redis.call('SADD', KEYS[2], ARGV[i])
  redis.call('SADD', KEYS[3] .. ARGV[i], ARGV[1])
end
return 1`

// KEYS: group hash, members set, groups index, user-groups key prefix. ARGV: name.
const REMOVE_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'name') == 0 then return 0 end
for _, u in ipairs(redis.call('SMEMBERS', KEYS[2])) do redis.call('SREM', KEYS[4] .. u, ARGV[1]) end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1`

export class Groups {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
  ) {}

  async get(name: string): Promise<GroupRecord | undefined> {
    const [[, h], [, members]] = (await this.redis
      .multi()
      .hgetall(this.keys.group(name))
      .smembers(this.keys.groupMembers(name))
      .exec()) as [[null, Record<string, string>], [null, string[]]]
    if (!h.name) return undefined
    return {
      name: h.name,
      properties: h.properties ? (decodeJson(this.keys.group(name), 'properties', h.properties, isObject) ?? {}) : {},
      users: members.sort(),
    }
  }

  async require(name: string): Promise<GroupRecord> {
    const g = await this.get(name)
    if (!g) throw new NotFound(`group ${name} not found`)
    return g
  }

  async names(offset = 0, limit = -1): Promise<string[]> {
    return this.redis.zrange(this.keys.groups, String(offset), String(limit < 0 ? -1 : offset + limit - 1))
  }

  async count(): Promise<number> {
    return this.redis.zcard(this.keys.groups)
  }

  async ofUser(user: string): Promise<string[]> {
    return (await this.redis.smembers(this.keys.userGroups(user))).sort()
  }

  /** Creates the group; Conflict when it exists. Members must be existing users (checked by the caller). */
  async create(name: string, users: readonly string[] = [], properties: Record<string, unknown> = {}): Promise<void> {
    const problem = groupNameProblem(name)
    if (problem) throw new BadRequest(problem, 'invalid_name')
    if (!(await this.redis.hsetnx(this.keys.group(name), 'name', name)))
      throw new Conflict(`group ${name} already exists`)
    const m = this.redis
      .multi()
      .hset(this.keys.group(name), { properties: JSON.stringify(properties), created: new Date().toISOString() })
      .zadd(this.keys.groups, 0, name)
    this.addTo(m, name, users)
    await m.exec()
  }

  /** Deletes the group and every membership in one script (no member added meanwhile is left over). */
  async remove(name: string): Promise<void> {
    const ok = await this.redis.eval(
      REMOVE_SCRIPT,
      4,
      this.keys.group(name),
      this.keys.groupMembers(name),
      this.keys.groups,
      this.keys.userGroups(''),
      name,
    )
    if (!ok) throw new NotFound(`group ${name} not found`)
  }

  /** Adds members; NotFound when the group is gone, even if it was deleted a moment ago by another replica. */
  async addUsers(name: string, users: readonly string[]): Promise<void> {
    const ok = await this.redis.eval(
      ADD_SCRIPT,
      3,
      this.keys.group(name),
      this.keys.groupMembers(name),
      this.keys.userGroups(''),
      name,
      ...users,
    )
    if (!ok) throw new NotFound(`group ${name} not found`)
  }

  async removeUsers(name: string, users: readonly string[]): Promise<void> {
    await this.require(name)
    const m = this.redis.multi()
    for (const u of users) m.srem(this.keys.groupMembers(name), u).srem(this.keys.userGroups(u), name)
    await m.exec()
  }

  async setProperties(name: string, properties: Record<string, unknown>): Promise<void> {
    await this.require(name)
    await this.redis.hset(this.keys.group(name), 'properties', JSON.stringify(properties))
  }

  /** Takes a deleted user out of every group. */
  async forgetUser(user: string): Promise<void> {
    const groups = await this.ofUser(user)
    const m = this.redis.multi().del(this.keys.userGroups(user))
    for (const g of groups) m.srem(this.keys.groupMembers(g), user)
    await m.exec()
  }

  /** Moves a renamed user's memberships to the new name. */
  async renameUser(from: string, to: string): Promise<void> {
    const groups = await this.ofUser(from)
    const m = this.redis.multi().del(this.keys.userGroups(from))
    for (const g of groups)
      m.srem(this.keys.groupMembers(g), from).sadd(this.keys.groupMembers(g), to).sadd(this.keys.userGroups(to), g)
    await m.exec()
  }

  private addTo(m: ReturnType<Redis['multi']>, name: string, users: readonly string[]): void {
    for (const u of users) m.sadd(this.keys.groupMembers(name), u).sadd(this.keys.userGroups(u), name)
  }
}
