import { describe, expect, it } from 'vitest'
import { apiAction, pageAction } from './routes'

describe('audited routes', () => {
  it('names the action and target of API requests, and nothing for reads', () => {
    expect(apiAction('POST', '/users/ann/servers/lab')).toEqual({ action: 'server.start', target: 'ann/lab' })
    expect(apiAction('DELETE', '/users/ann/servers/lab', { remove: true })).toEqual({
      action: 'server.delete',
      target: 'ann/lab',
    })
    expect(apiAction('DELETE', '/users/ann/server')).toEqual({ action: 'server.stop', target: 'ann/' })
    expect(apiAction('DELETE', '/users/a%20b/tokens/x1')).toEqual({ action: 'token.revoke', target: 'a b/x1' })
    expect(apiAction('PATCH', '/users/ann')).toEqual({ action: 'user.modify', target: 'ann' })
    expect(apiAction('POST', '/shares/ann/')).toEqual({ action: 'share.create', target: 'ann/' })
    expect(apiAction('GET', '/users/ann')).toBeNull()
    expect(apiAction('POST', '/users/ann/activity')).toBeNull()
  })

  it("names page forms, a form on the caller's own server by the caller", () => {
    expect(pageAction('POST', '/stop', 'ann')).toEqual({ action: 'server.stop', target: 'ann/' })
    expect(pageAction('POST', '/spawn/bob')).toEqual({ action: 'server.start', target: 'bob/' })
    expect(pageAction('POST', '/spawn/bob/lab')).toEqual({ action: 'server.start', target: 'bob/lab' })
    expect(pageAction('POST', '/token/oidc/g1/revoke')).toEqual({ action: 'oidc.revoke', target: 'g1' })
    expect(pageAction('POST', '/login')).toBeNull()
  })
})
