import { describe, expect, it } from 'vitest'
import { defaultUrlProblem, formatDefaultUrl, landingUrl } from './default-url'

describe('default URL (spawner.defaultUrl)', () => {
  it('fills in {username}, URL-escaped, and always starts with a slash', () => {
    expect(formatDefaultUrl('/tree/{username}', 'sue')).toBe('/tree/sue')
    expect(formatDefaultUrl('lab', 'sue')).toBe('/lab')
    expect(formatDefaultUrl('/tree/{username}/{username}', 'a b')).toBe('/tree/a%20b/a%20b')
  })

  it('is where the hub sends a user into their server: under its base URL, or the base URL without one', () => {
    expect(landingUrl('/user/sue/', 'sue', '/lab')).toBe('/user/sue/lab')
    expect(landingUrl('/user/sue/nb/', 'sue', 'tree/{username}')).toBe('/user/sue/nb/tree/sue')
    expect(landingUrl('/user/sue/', 'sue', undefined)).toBe('/user/sue/')
  })

  it('refuses what is no path of the server, and unknown placeholders', () => {
    expect(defaultUrlProblem('/lab')).toBeUndefined()
    expect(defaultUrlProblem('/notebooks/intro.ipynb?reset=1')).toBeUndefined()
    expect(defaultUrlProblem('//evil.example/x')).toMatch(/\/\/host/)
    expect(defaultUrlProblem('/a b')).toMatch(/no spaces/)
    expect(defaultUrlProblem('/a\\b')).toMatch(/backslashes/)
    expect(defaultUrlProblem('')).toBeDefined()
    expect(defaultUrlProblem('/tree/{user}')).toMatch(/unknown placeholder \{user\}/)
    expect(defaultUrlProblem(`/${'a'.repeat(512)}`)).toMatch(/at most 512/)
  })
})
