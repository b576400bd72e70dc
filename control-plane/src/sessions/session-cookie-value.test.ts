// sessionCookieValue reads a Cookie header as the proxy does (proxy/lua/edgehub/session.lua,
// cookie_values, and identity.lua): exactly one session cookie, or none.
import { describe, expect, it } from 'vitest'
import { sessionCookieValue } from './cookie'

describe('sessionCookieValue', () => {
  it('finds the one session cookie among others, trimmed', () => {
    expect(sessionCookieValue('edgehub-session=v1.a')).toBe('v1.a')
    expect(sessionCookieValue('theme=dark;  edgehub-session = v1.a ; edgehub-xsrf=x')).toBe('v1.a')
  })

  it('is undefined with two or more, valid or not, and with none', () => {
    expect(sessionCookieValue('edgehub-session=garbage; edgehub-session=v1.a')).toBeUndefined()
    expect(sessionCookieValue('edgehub-session=v1.a; edgehub-session=v1.a')).toBeUndefined()
    expect(sessionCookieValue('edgehub-session=v1.a;edgehub-session=')).toBeUndefined()
    expect(sessionCookieValue('theme=dark')).toBeUndefined()
    expect(sessionCookieValue('xedgehub-session=v1.a')).toBeUndefined()
    expect(sessionCookieValue(undefined)).toBeUndefined()
  })
})
