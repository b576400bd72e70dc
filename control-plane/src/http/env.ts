import type { Deps } from '../deps'
import type { UserRecord } from '../state/users'

export interface Identity {
  user: UserRecord
  via: 'cookie' | 'token'
  sid?: string
}

export type HubEnv = {
  Variables: {
    deps: Deps
    identity: Identity | null
    xsrf: string
    requestId: string
  }
}
