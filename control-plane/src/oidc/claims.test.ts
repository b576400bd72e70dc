// Accounts and claims from the user record: who has an account, and what each claim says.
import { describe, expect, it } from 'vitest'
import type { KoaContextWithOIDC } from 'oidc-provider'
import type { UserRecord } from '../state/users'
import { findAccount } from './claims'
import { Roles } from '../scopes/roles'

const user = (name: string, over: Partial<UserRecord> = {}): UserRecord => ({
  name,
  admin: false,
  approved: true,
  created: '',
  lastActivity: null,
  ...over,
})
const records: Record<string, UserRecord> = {
  ada: user('ada', { admin: true }),
  bob: user('bob'),
  eve: user('eve'),
  pat: user('pat', { approved: false }),
}
const deps = (groups: string[] = []) => ({
  users: { get: async (name: string) => records[name] },
  config: { auth: { admins: [], allowed: [], blocked: ['eve'] } },
  groups: { ofUser: async () => groups },
  roles: new Roles(
    [
      {
        name: 'physics-tutor',
        description: '',
        scopes: ['read:users!group=physics'],
        users: [],
        groups: ['physics'],
        services: [],
      },
    ],
    false,
  ),
  shares: { scopesFor: async () => [] },
})
const ctx = {} as KoaContextWithOIDC
const find = (d: ReturnType<typeof deps>, sub: string) =>
  findAccount(d as unknown as Parameters<typeof findAccount>[0])(ctx, sub)

describe('findAccount', () => {
  it("gives the user record as claims, with groups and the user's hub scopes", async () => {
    const account = await find(deps(['physics']), 'ada')
    expect(account?.accountId).toBe('ada')
    const claims = await account!.claims('id_token', 'openid profile', {}, [])
    expect(claims).toMatchObject({
      sub: 'ada',
      name: 'ada',
      preferred_username: 'ada',
      admin: true,
      groups: ['physics'],
    })
    expect(claims.scopes).toEqual(expect.arrayContaining(['admin:users', 'read:users', 'access:servers!user=ada']))
    expect(claims.scopes).not.toContain('access:servers') // an admin without adminAccess
  })

  it("gives a user only their own scopes and what their groups' roles add", async () => {
    const alone = await (await find(deps(), 'bob'))!.claims('userinfo', 'openid', {}, [])
    expect(alone.groups).toEqual([])
    expect((alone.scopes as string[]).every((s) => s.endsWith('!user=bob'))).toBe(true)
    const tutor = await (await find(deps(['physics']), 'bob'))!.claims('userinfo', 'openid', {}, [])
    expect(tutor.scopes).toContain('read:users!group=physics')
  })

  it('has no account for a missing, blocked or unapproved user', async () => {
    for (const name of ['nobody', 'eve', 'pat']) expect(await find(deps(), name)).toBeUndefined()
  })
})
