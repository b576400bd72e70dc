import type { Deps } from '../deps'
import type { UserRecord } from '../state/users'
import type { TokenRecord } from '../state/tokens'
import type { ScopeSet } from '../scopes/scope-set'

export interface Identity {
  user: UserRecord
  via: 'cookie' | 'token'
  sid?: string
  /** The token presented, when via is 'token'. */
  token?: TokenRecord
  /** The user's groups (as read for this request). */
  groups: string[]
  /** What this request may do: the user's role scopes, limited by the token's. */
  scopes: ScopeSet
}

/** A configured service calling with its API token (never a page visitor). */
export interface ServiceIdentity {
  name: string
  token: TokenRecord
  scopes: ScopeSet
}

export type HubEnv = {
  Variables: {
    deps: Deps
    /** The user calling (cookie or token), or null. */
    identity: Identity | null
    /** The service calling, or null. */
    service: ServiceIdentity | null
    xsrf: string
    requestId: string
  }
}
