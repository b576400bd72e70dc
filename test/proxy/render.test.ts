// renderNginxConf: the template filled from typed options, with every value checked first.
import { describe, expect, it } from 'vitest'
import { DEFAULT_LUA_DIR, luaString, renderNginxConf, type ProxyRenderOptions } from '../../proxy/src/render'

const base: ProxyRenderOptions = {
  listen: { host: '127.0.0.1', port: 8000 },
  hubUpstreams: ['127.0.0.1:8081', '[::1]:8082'],
  redis: { host: '127.0.0.1', port: 6379 },
  prefix: 'edgehub:',
  runDir: '/tmp/edgehub-run',
  modules: [],
}

describe('renderNginxConf', () => {
  it('replaces every placeholder', () => {
    const conf = renderNginxConf(base)
    expect(conf).not.toMatch(/\$\{[A-Z_]+\}/)
    expect(conf).toContain('listen 127.0.0.1:8000;')
    expect(conf).toContain('server 127.0.0.1:8081 max_fails=1 fail_timeout=1s;')
    expect(conf).toContain('server [::1]:8082 max_fails=1 fail_timeout=1s;')
    expect(conf).toContain('pid /tmp/edgehub-run/nginx.pid;')
    expect(conf).toContain(`lua_package_path "${DEFAULT_LUA_DIR}/?.lua;;";`)
    expect(conf).toContain('lua_shared_dict edgehub 64m;')
    expect(conf).toContain('worker_processes auto;')
    expect(conf).toContain('prefix = "edgehub:",')
    expect(conf).toContain('password = nil,')
  })

  it('renders `user` only when given', () => {
    expect(renderNginxConf(base)).not.toMatch(/^user /m)
    expect(renderNginxConf({ ...base, user: 'root' })).toMatch(/^user root;$/m)
  })

  it('renders the given load_module lines, and none for an empty list', () => {
    expect(renderNginxConf(base)).not.toContain('load_module')
    const conf = renderNginxConf({ ...base, modules: ['/opt/ngx/lua.so'] })
    expect(conf).toContain('load_module /opt/ngx/lua.so;')
  })

  it('passes Redis settings to Lua as escaped string literals', () => {
    const conf = renderNginxConf({ ...base, redis: { host: '10.0.0.5', port: 6380, password: 'p"w\\\n}', db: 2 } })
    expect(conf).toContain('host = "10.0.0.5",')
    expect(conf).toContain('port = 6380,')
    expect(conf).toContain('password = "p\\"w\\\\\\010}",')
    expect(conf).toContain('db = 2,')
  })

  it('brackets an IPv6 listen address', () => {
    expect(renderNginxConf({ ...base, listen: { host: '::1', port: 8000 } })).toContain('listen [::1]:8000;')
  })

  it('renders a resolver only when the Redis host is a name', () => {
    expect(renderNginxConf(base)).not.toContain('resolver ')
    const conf = renderNginxConf({ ...base, redis: { host: 'redis', port: 6379 }, resolver: ['127.0.0.11'] })
    expect(conf).toContain('resolver 127.0.0.11 ipv6=off;')
  })

  it('lists every problem at once', () => {
    const bad = {
      ...base,
      listen: { host: 'a b', port: 0 },
      hubUpstreams: ['nope'],
      runDir: 'relative/dir',
      sharedDictSize: 'lots',
      workerProcesses: -1,
      user: 'root; daemon on',
    }
    expect(() => renderNginxConf(bad)).toThrow(/invalid proxy options \(7 problems\)/)
    try {
      renderNginxConf(bad)
    } catch (err) {
      const msg = (err as Error).message
      for (const field of [
        'listen.host',
        'listen.port',
        'hubUpstreams[0]',
        'runDir',
        'sharedDictSize',
        'workerProcesses',
        'user',
      ]) {
        expect(msg).toContain(`${field}:`)
      }
    }
  })

  it('renders Redis Sentinel settings for Lua, without host and port', () => {
    const conf = renderNginxConf({
      ...base,
      redis: {
        password: 'master "pw"',
        db: 1,
        sentinel: {
          hosts: [
            { host: '127.0.0.1', port: 26379 },
            { host: '::1', port: 26380 },
          ],
          masterName: 'edgehub-main_1.a',
          password: 's\\pw',
        },
      },
    })
    expect(conf).toContain('host = nil,')
    expect(conf).toContain('port = nil,')
    expect(conf).toContain('password = "master \\"pw\\"",')
    expect(conf).toContain('db = 1,')
    expect(conf).toContain('sentinels = { { host = "127.0.0.1", port = 26379 }, { host = "::1", port = 26380 } },')
    expect(conf).toContain('master_name = "edgehub-main_1.a",')
    expect(conf).toContain('sentinel_password = "s\\\\pw",')
    expect(conf).not.toContain('resolver ')
  })

  it('renders no sentinels without the sentinel option', () => {
    const conf = renderNginxConf(base)
    expect(conf).toContain('sentinels = nil,')
    expect(conf).toContain('master_name = nil,')
    expect(conf).toContain('sentinel_password = nil,')
  })

  it('renders a resolver when a sentinel host is a name', () => {
    const conf = renderNginxConf({
      ...base,
      redis: { sentinel: { hosts: [{ host: 'sentinel-1', port: 26379 }], masterName: 'm' } },
      resolver: ['127.0.0.11'],
    })
    expect(conf).toContain('resolver 127.0.0.11 ipv6=off;')
    expect(conf).toContain('sentinels = { { host = "sentinel-1", port = 26379 } },')
  })

  it('checks the sentinel options', () => {
    const render = (redis: unknown) => () => renderNginxConf({ ...base, redis } as ProxyRenderOptions)
    expect(render({ sentinel: { hosts: [], masterName: 'm' } })).toThrow(
      'redis.sentinel.hosts: at least one { host, port } is required',
    )
    expect(render({ sentinel: { hosts: [{ host: '127.0.0.1', port: 26379 }], masterName: 'my master' } })).toThrow(
      'redis.sentinel.masterName: expected letters',
    )
    expect(render({ sentinel: { hosts: [{ host: '127.0.0.1', port: 26379 }], masterName: '' } })).toThrow(
      'redis.sentinel.masterName',
    )
    expect(render({ sentinel: { hosts: [{ host: 'a b', port: 0 }], masterName: 'm' } })).toThrow(/\(2 problems\)/)
    try {
      render({ sentinel: { hosts: [{ host: 'a b', port: 0 }], masterName: 'm' } })()
    } catch (err) {
      expect((err as Error).message).toContain('redis.sentinel.hosts[0].host:')
      expect((err as Error).message).toContain('redis.sentinel.hosts[0].port:')
    }
    expect(render({ port: 6379 })).toThrow('redis.host:')
    expect(render({ host: '127.0.0.1' })).toThrow('redis.port:')
    expect(
      render({
        host: '127.0.0.1',
        port: 70000,
        sentinel: { hosts: [{ host: '127.0.0.1', port: 1 }], masterName: 'm' },
      }),
    ).toThrow('redis.port:')
  })

  it('renders the activity flush interval, default 10 s, and checks it', () => {
    expect(renderNginxConf(base)).toContain('activity_flush_sec = 10,')
    expect(renderNginxConf({ ...base, activityFlushSec: 1 })).toContain('activity_flush_sec = 1,')
    for (const bad of [0, 1.5, -3]) {
      expect(() => renderNginxConf({ ...base, activityFlushSec: bad })).toThrow(
        'activityFlushSec: expected an integer >= 1',
      )
    }
  })

  it('bounds retries of hub requests and records activity after user requests', () => {
    const conf = renderNginxConf(base)
    expect(conf).toContain('proxy_next_upstream error timeout http_502 http_503;')
    expect(conf).not.toMatch(/proxy_next_upstream [^;]*non_idempotent/)
    expect(conf).toContain('proxy_next_upstream_tries 3;')
    expect(conf).toContain('proxy_next_upstream_timeout 10s;')
    expect(conf.match(/require\("edgehub.activity"\).log\(\)/g)).toHaveLength(2)
    expect(conf).toContain('require("edgehub.activity").log_failed()')
  })

  it('renders TLS only when given: ssl listen, the pair, protocols, HSTS, the 497 redirect', () => {
    expect(renderNginxConf(base)).not.toMatch(/ssl_|Strict-Transport-Security|listen [^;]* ssl/)
    const tls = { certFile: '/etc/tls/a.crt', keyFile: '/etc/tls/a.key' }
    const conf = renderNginxConf({ ...base, tls })
    expect(conf).toContain('listen 127.0.0.1:8000 ssl;')
    expect(conf).toContain('ssl_certificate /etc/tls/a.crt;')
    expect(conf).toContain('ssl_certificate_key /etc/tls/a.key;')
    expect(conf).toContain('ssl_protocols TLSv1.2 TLSv1.3;')
    expect(conf).toContain('ssl_session_tickets off;')
    expect(conf).toContain('add_header Strict-Transport-Security "max-age=31536000" always;')
    expect(conf).toContain('error_page 497 =301 https://$host:$server_port$request_uri;')
    expect(conf).not.toContain('acme-challenge')
    const none = renderNginxConf({ ...base, tls: { ...tls, hstsMaxAgeSec: 0 } })
    expect(none).not.toContain('Strict-Transport-Security')
    const sub = renderNginxConf({ ...base, tls: { ...tls, hstsMaxAgeSec: 600, hstsIncludeSubdomains: true } })
    expect(sub).toContain('"max-age=600; includeSubDomains"')
  })

  it('renders the redirect server on its own port, to the https port (left out when 443)', () => {
    const tls = { certFile: '/c', keyFile: '/k', httpRedirectPort: 8080, acmeWebroot: '/var/acme/' }
    const conf = renderNginxConf({ ...base, tls })
    expect(conf).toContain('listen 127.0.0.1:8080;')
    expect(conf).toContain('return 301 https://$host:8000$request_uri;')
    expect(conf).toContain('root /var/acme;')
    const on443 = renderNginxConf({ ...base, listen: { host: '0.0.0.0', port: 443 }, tls })
    expect(on443).toContain('return 301 https://$host$request_uri;')
  })

  it('checks the TLS options, every problem at once', () => {
    expect(() =>
      renderNginxConf({
        ...base,
        tls: {
          certFile: 'relative.crt',
          keyFile: '/k; evil',
          httpRedirectPort: 8000,
          acmeWebroot: '/a b',
          hstsMaxAgeSec: 63_072_001,
        },
      }),
    ).toThrow(
      /tls\.certFile: expected an absolute path[\s\S]*tls\.keyFile: expected an absolute path[\s\S]*tls\.httpRedirectPort: must differ from listen\.port[\s\S]*tls\.acmeWebroot: expected an absolute path[\s\S]*tls\.hstsMaxAgeSec: expected an integer 0-63072000/,
    )
    expect(() => renderNginxConf({ ...base, tls: { certFile: '/c', keyFile: '/k', acmeWebroot: '/w' } })).toThrow(
      'tls.acmeWebroot: needs tls.httpRedirectPort',
    )
  })

  it('refuses a template with an unknown placeholder', () => {
    expect(() => renderNginxConf(base, 'x ${NOPE} y')).toThrow('unknown placeholder ${NOPE}')
  })
})

describe('luaString', () => {
  it('keeps printable ASCII and escapes quotes, backslashes and other bytes', () => {
    expect(luaString('abc')).toBe('"abc"')
    expect(luaString('a"b\\c')).toBe('"a\\"b\\\\c"')
    expect(luaString('é\n')).toBe('"\\195\\169\\010"')
  })
})
