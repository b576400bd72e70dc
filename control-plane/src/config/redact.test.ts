import { describe, expect, it } from 'vitest'
import { HIDDEN, redactConfig } from './redact'

describe('redactConfig', () => {
  it('hides passwords, tokens, client secrets and URL passwords, and keeps everything else', () => {
    const shown = redactConfig({
      port: 8000,
      redis: {
        url: 'redis://edgehub-hub:s3cret@10.0.0.5:6379/0',
        passwordFile: '/etc/edgehub/redis-password',
        sentinel: { password: 'sp' },
      },
      proxy: { redis: { username: 'edgehub-proxy', password: 'pp' } },
      auth: { dummy: { password: 'dp' } },
      hub: { tokenInQuery: true, tokenExpiresInMaxSec: 0 },
      services: [{ name: 'grader', url: 'http://127.0.0.1:9000', apiToken: 'tok' }],
      oidc: { clients: [{ clientId: 'app', clientSecret: 'cs' }] },
    }) as any
    const text = JSON.stringify(shown)
    for (const secret of ['s3cret', '"sp"', '"pp"', '"dp"', '"tok"', '"cs"']) expect(text).not.toContain(secret)
    expect(shown.redis.url).toBe(`redis://edgehub-hub:${HIDDEN}@10.0.0.5:6379/0`)
    expect(shown.redis.passwordFile).toBe('/etc/edgehub/redis-password') // where it is, not what
    expect(shown.hub).toEqual({ tokenInQuery: true, tokenExpiresInMaxSec: 0 })
    expect(shown.services[0]).toMatchObject({ name: 'grader', url: 'http://127.0.0.1:9000', apiToken: HIDDEN })
    expect(shown.oidc.clients[0]).toEqual({ clientId: 'app', clientSecret: HIDDEN })
    expect(shown.proxy.redis.username).toBe('edgehub-proxy')
  })
})
