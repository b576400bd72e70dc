import { describe, expect, it } from 'vitest'
import { jupyterhubEnv, serviceUrl } from './jupyterhub-env'

const hub = {
  JUPYTERHUB_API_TOKEN: 't',
  JUPYTERHUB_SERVICE_PREFIX: '/user/sue/',
  JUPYTERHUB_OAUTH_ACCESS_SCOPES: '["access:servers!server=sue/","access:servers!user=sue"]',
}
const place = { user: 'sue', server: '', baseUrl: '/user/sue/', ip: '127.0.0.1', port: 20123 }

describe('the JUPYTERHUB_* environment of a server', () => {
  it('says where the server listens, as JupyterHub 2 and later do (jupyterhub-singleuser binds there)', () => {
    const env = jupyterhubEnv(hub, place)
    expect(env.JUPYTERHUB_SERVICE_URL).toBe('http://127.0.0.1:20123/user/sue/')
    expect(jupyterhubEnv(hub, { ...place, server: 'nb', baseUrl: '/user/sue/nb/' }).JUPYTERHUB_SERVICE_URL).toBe(
      'http://127.0.0.1:20123/user/sue/nb/',
    )
    expect(serviceUrl('::1', 20123, '/user/sue/')).toBe('http://[::1]:20123/user/sue/')
  })

  it("keeps the hub's variables and adds the OAuth ones JupyterHub sets beside them", () => {
    const env = jupyterhubEnv(hub, place)
    expect(env).toMatchObject(hub)
    expect(env.JUPYTERHUB_OAUTH_SCOPES).toBe(hub.JUPYTERHUB_OAUTH_ACCESS_SCOPES)
    expect(JSON.parse(env.JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES)).toEqual(['access:servers!server=sue/'])
    expect(env.JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED).toBe('0')
    // what the hub sets itself wins over what is filled in
    expect(
      jupyterhubEnv({ ...hub, JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED: '1' }, place)
        .JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED,
    ).toBe('1')
  })

  it('gives a root directory only when one was chosen, and the landing page only when set', () => {
    const bare = jupyterhubEnv(hub, place)
    expect(bare).not.toHaveProperty('JUPYTERHUB_ROOT_DIR')
    expect(bare).not.toHaveProperty('JUPYTERHUB_DEFAULT_URL')
    const set = jupyterhubEnv(hub, { ...place, rootDir: '/srv/nb/sue', defaultUrl: 'tree/{username}' })
    expect(set.JUPYTERHUB_ROOT_DIR).toBe('/srv/nb/sue')
    expect(set.JUPYTERHUB_DEFAULT_URL).toBe('/tree/sue')
  })
})
