// Accounts and claims from the user record: who has an account, and what each claim says.
import { describe, expect, it } from 'vitest'
import type { KoaContextWithOIDC } from 'oidc-provider'
import type { UserRecord } from '../state/users'
import { findAccount } from './claims'

const user = (name: string, over: Partial<UserRecord> = {}): UserRecord => ({ name, admin: false, approved: true, created: '', lastActivity: null, ...over })
const records: Record<string, UserRecord> = { ada: user('ada', { admin: true }), bob: user('bob'), eve: user('eve'), pat: user('pat', { approved: false }) }
const deps = (groups?: { ofUser?(u: string): Promise<string[]> }) => ({
  users: { get: async (name: string) => records[name] },
  config: { auth: { admins: [], allowed: [], blocked: ['eve'] } },
  groups,
})
const ctx = {} as KoaContextWithOIDC
const find = (d: ReturnType<typeof deps>, sub: string) => findAccount(d as unknown as Parameters<typeof findAccount>[0])(ctx, sub)

describe('findAccount', () => {
  it('gives the user record as claims, with groups and the granted scopes', async () => {
    const account = await find(deps({ ofUser: async () => ['physics'] }), 'ada')
    expect(account?.accountId).toBe('ada')
    expect(await account!.claims('id_token', 'openid profile', {}, [])).toEqual({
      sub: 'ada',
      name: 'ada',
      preferred_username: 'ada',
      admin: true,
      groups: ['physics'],
      scopes: ['openid', 'profile'],
    })
  })

  it('gives no groups when the hub has no group lookup', async () => {
    const account = await find(deps(), 'bob')
    expect((await account!.claims('userinfo', 'openid', {}, [])).groups).toEqual([])
  })

  it('has no account for a missing, blocked or unapproved user', async () => {
    for (const name of ['nobody', 'eve', 'pat']) expect(await find(deps(), name)).toBeUndefined()
  })
})
