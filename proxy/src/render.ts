// Renders proxy/conf/nginx.conf.tmpl: every ${NAME} placeholder is replaced, values are checked
// first so nothing can break out of its directive (or out of its Lua string).
import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { isIP } from 'node:net'
import { fileURLToPath } from 'node:url'

/** Redis Sentinel: the proxy asks the sentinels for the master on every new connection. */
export interface RedisSentinelOptions {
  /** Asked in turn (`SENTINEL get-master-addr-by-name`); at least one. */
  hosts: Array<{ host: string; port: number }>
  /** The name the sentinels monitor the master under; letters, digits, `.`, `_`, `-`. */
  masterName: string
  /** The sentinels' own `requirepass`; the master's password is `redis.password`. */
  password?: string
  /** An ACL user of the sentinels (with `password` as its password); default: their default user. */
  username?: string
}

/**
 * Either one Redis at host:port, or the master that `sentinel` names (host/port then unused).
 * username + password: the ACL user the proxy logs in as (`AUTH username password`); password alone
 * logs in as the default user.
 */
export type ProxyRedisOptions =
  | { host: string; port: number; username?: string; password?: string; db?: number; sentinel?: undefined }
  | { host?: string; port?: number; username?: string; password?: string; db?: number; sentinel: RedisSentinelOptions }

export interface ProxyRenderOptions {
  listen: { host: string; port: number }
  /** Every hub replica, "host:port". */
  hubUpstreams: string[]
  redis: ProxyRedisOptions
  /** Redis key prefix, e.g. "edgehub:". */
  prefix: string
  /** Absolute: pid file, temp dirs and logs go here. */
  runDir: string
  /** Default: the absolute path of proxy/lua. */
  luaDir?: string
  workerProcesses?: number | 'auto'
  /** lua_shared_dict size; default '64m'. */
  sharedDictSize?: string
  /** Renders `user ...;` only when given. */
  user?: string
  /** load_module paths; default: Debian's ndk + lua modules when present (OpenResty needs none). */
  modules?: string[]
  /** e.g. http://127.0.0.1:8000; handed to Lua for absolute redirects (relative ones are used today). */
  publicUrl?: string
  /**
   * Per-user hosts (JupyterHub's subdomain_host): "scheme://host[:port]" of the hub; each user's
   * server is then served at scheme://<label>.host[:port]/user/NAME/ (proxy/lua/edgehub/subdomain.lua).
   * Default: none, every server on the hub's host.
   */
  subdomainHost?: string
  /** XREAD BLOCK in ms; default 5000. A version mismatch without new entries is found this late. */
  syncBlockMs?: number
  /** `resolver` addresses, needed only when redis.host is a DNS name; default: /etc/resolv.conf. */
  resolver?: string[]
  /** Seconds between each worker's writes of request activity to `P activity`; integer >= 1, default 10. */
  activityFlushSec?: number
  /**
   * Front proxies (load balancers, TLS terminators) whose X-Forwarded-For and X-Forwarded-Proto are
   * believed: IP addresses or CIDR blocks. From any other peer these headers are replaced (the
   * client's address, our own scheme). Default: none.
   */
  trustedProxies?: string[]
  /**
   * The remote-user authenticator's header (auth.remote-user.header): passed to the hub's login page
   * (/hub/login) only from trustedProxies peers, blanked from anyone else and on every other path.
   * Default: none, and X-Remote-User, Remote-User and X-Forwarded-User are blanked everywhere.
   */
  identityHeader?: string
  /** error_log level; default 'notice'. */
  errorLogLevel?: 'debug' | 'info' | 'notice' | 'warn' | 'error'
  /** https on listen (TLS 1.2 and 1.3, Mozilla intermediate ciphers); default: plain http. */
  tls?: ProxyTlsOptions
  /** Prometheus metrics (GET /metrics) on a server of their own at this address; default: none, not counted. */
  metrics?: { host: string; port: number }
  /** A folder with proxy-403.html, proxy-502.html, proxy-503.html (ui.templatePath), read once at start. */
  errorPagesDir?: string
}

export interface ProxyTlsOptions {
  /** Absolute paths of the PEM certificate chain and its key. */
  certFile: string
  keyFile: string
  /** A plain-http port on listen.host answering 301 to https (and ACME http-01 files from acmeWebroot). */
  httpRedirectPort?: number
  /** Absolute: served at /.well-known/acme-challenge/ on the redirect port. */
  acmeWebroot?: string
  /** Strict-Transport-Security max-age; 0: no header. Default one year. */
  hstsMaxAgeSec?: number
  hstsIncludeSubdomains?: boolean
}

/** Mozilla's "intermediate" TLS 1.2 ciphers (TLS 1.3 suites are always on): forward secrecy and AEAD only. */
export const TLS_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
].join(':')

const IDENTITY_HEADER = /^[A-Za-z][A-Za-z0-9-]{0,63}$/
/** Headers that name a user in some front server's convention: never taken from clients. */
const IDENTITY_HEADERS = ['X-Forwarded-User', 'X-Remote-User', 'Remote-User']

/** The proxy_set_header lines for identity headers: blanked, but the configured one from trusted fronts. */
function identityHeaderLines(configured: string | undefined): string {
  const lines = IDENTITY_HEADERS.filter((h) => h.toLowerCase() !== configured?.toLowerCase()).map(
    (h) => `        proxy_set_header ${h} "";`,
  )
  if (configured) lines.push(`        proxy_set_header ${configured} $edgehub_identity_header;`)
  return lines.join('\n')
}

export const TEMPLATE_PATH = fileURLToPath(new URL('../conf/nginx.conf.tmpl', import.meta.url))
export const DEFAULT_LUA_DIR = fileURLToPath(new URL('../lua', import.meta.url))
const DEBIAN_MODULES = [
  '/usr/share/nginx/modules/ndk_http_module.so',
  '/usr/share/nginx/modules/ngx_http_lua_module.so',
]

/** load_module lines for Debian's packaged modules when they are installed; none elsewhere. */
export function defaultModules(): string[] {
  return DEBIAN_MODULES.every((m) => existsSync(m)) ? [...DEBIAN_MODULES] : []
}

/** A Lua string literal: printable ASCII kept, everything else as decimal escapes. */
export function luaString(s: string): string {
  let out = '"'
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b)
    else out += `\\${String(b).padStart(3, '0')}`
  }
  return `${out}"`
}

// No whitespace, quotes, braces, semicolons, '$' or '#': safe as one nginx token.
const SAFE_TOKEN = /^[A-Za-z0-9._:/@%+=,[\]-]+$/

function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}

function checkPort(what: string, port: number, problems: string[]) {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    problems.push(`${what}: expected a port 1-65535, got ${port}`)
}

function checkHost(what: string, host: string, problems: string[]) {
  if (isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,253})$/.test(host)) {
    problems.push(`${what}: expected an IP address or host name, got ${JSON.stringify(host)}`)
  }
}

function checkUpstream(i: number, hp: string, problems: string[]) {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d+)$/.exec(hp)
  if (!m) {
    problems.push(`hubUpstreams[${i}]: expected "host:port" or "[v6]:port", got ${JSON.stringify(hp)}`)
    return
  }
  checkPort(`hubUpstreams[${i}]`, Number(m[3]), problems)
}

function checkSentinel(s: RedisSentinelOptions, problems: string[]) {
  if (!Array.isArray(s.hosts) || s.hosts.length === 0) {
    problems.push('redis.sentinel.hosts: at least one { host, port } is required')
  } else {
    s.hosts.forEach((h, i) => {
      checkHost(`redis.sentinel.hosts[${i}].host`, h?.host ?? '', problems)
      checkPort(`redis.sentinel.hosts[${i}].port`, h?.port, problems)
    })
  }
  if (typeof s.masterName !== 'string' || !/^[A-Za-z0-9._-]+$/.test(s.masterName)) {
    problems.push(
      `redis.sentinel.masterName: expected letters, digits, '.', '_' or '-', got ${JSON.stringify(s.masterName)}`,
    )
  }
  if (s.password !== undefined && typeof s.password !== 'string')
    problems.push('redis.sentinel.password: expected a string')
  if (s.username !== undefined && (typeof s.username !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(s.username))) {
    problems.push(
      `redis.sentinel.username: expected letters, digits, '_', '.' or '-' (1-64), got ${JSON.stringify(s.username)}`,
    )
  }
  if (s.username !== undefined && !s.password) problems.push('redis.sentinel.username: needs redis.sentinel.password')
}

export const MAX_TRUSTED_PROXIES = 64

/** Why t is not an IP address or a CIDR block ("10.0.0.0/8", "fd00::/8"); undefined when it is one. */
export function addressOrCidrProblem(t: unknown): string | undefined {
  if (typeof t !== 'string') return 'expected an IP address or CIDR block'
  const [addr, bits, ...rest] = t.split('/')
  const v = isIP(addr)
  if (v === 0 || rest.length) return `expected an IP address or CIDR block, got ${JSON.stringify(t)}`
  if (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= (v === 4 ? 32 : 128))) {
    return `expected a prefix length 0-${v === 4 ? 32 : 128} after "/", got ${JSON.stringify(t)}`
  }
  return undefined
}

function resolvConfNameservers(): string[] {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((a): a is string => !!a && isIP(a) !== 0)
  } catch {
    return []
  }
}

// With subdomainHost: the hand-off that signs a visitor in on a user's host, and the check that keeps
// the hub's pages off users' hosts (both only on users' hosts: the hub's host is served as before).
const HANDOFF_LOCATION = `        location = /_edgehub/handoff {
            content_by_lua_block {
                require("edgehub.access").handoff()
            }
        }
`
function checkTls(tls: ProxyTlsOptions, listenPort: number, problems: string[]) {
  for (const k of ['certFile', 'keyFile'] as const) {
    const f = tls[k]
    if (typeof f !== 'string' || !isAbsolute(f) || !SAFE_TOKEN.test(f))
      problems.push(`tls.${k}: expected an absolute path without spaces or quotes, got ${JSON.stringify(f)}`)
  }
  if (tls.httpRedirectPort !== undefined) {
    checkPort('tls.httpRedirectPort', tls.httpRedirectPort, problems)
    if (tls.httpRedirectPort === listenPort) problems.push('tls.httpRedirectPort: must differ from listen.port')
  }
  const w = tls.acmeWebroot
  if (w !== undefined && (!isAbsolute(w) || !SAFE_TOKEN.test(w)))
    problems.push(`tls.acmeWebroot: expected an absolute path without spaces or quotes, got ${JSON.stringify(w)}`)
  if (w !== undefined && tls.httpRedirectPort === undefined)
    problems.push('tls.acmeWebroot: needs tls.httpRedirectPort')
  const age = tls.hstsMaxAgeSec ?? 31_536_000
  if (!Number.isInteger(age) || age < 0 || age > 63_072_000)
    problems.push(`tls.hstsMaxAgeSec: expected an integer 0-63072000, got ${age}`)
}

/** The server block's TLS directives: the pair, protocols, ciphers, sessions, HSTS, http on the https port. */
function tlsLines(tls: ProxyTlsOptions): string {
  const age = tls.hstsMaxAgeSec ?? 31_536_000
  const hsts = `max-age=${age}${tls.hstsIncludeSubdomains ? '; includeSubDomains' : ''}`
  return [
    `        ssl_certificate ${tls.certFile};`,
    `        ssl_certificate_key ${tls.keyFile};`,
    '        ssl_protocols TLSv1.2 TLSv1.3;',
    `        ssl_ciphers ${TLS_CIPHERS};`,
    '        ssl_prefer_server_ciphers off;',
    '        ssl_session_cache shared:edgehub_tls:10m;',
    '        ssl_session_timeout 1d;',
    '        ssl_session_tickets off;     # no ticket key to rotate across proxies and reloads',
    ...(age > 0 ? [`        add_header Strict-Transport-Security "${hsts}" always;`] : []),
    '        # plain http sent to the https port (nginx answers 497): to the same URL over https',
    '        error_page 497 =301 https://$host:$server_port$request_uri;',
  ].join('\n')
}

/** The plain-http server of tls.httpRedirectPort: 301 to https on the proxy's port, and the ACME files. */
function redirectServer(host: string, httpsPort: number, tls: ProxyTlsOptions): string {
  const target = httpsPort === 443 ? 'https://$host$request_uri' : `https://$host:${httpsPort}$request_uri`
  return [
    '    server {',
    `        listen ${hostPort(host, tls.httpRedirectPort!)};`,
    '        access_log off;',
    ...(tls.acmeWebroot
      ? [
          '        location ^~ /.well-known/acme-challenge/ {',
          `            root ${tls.acmeWebroot.replace(/\/+$/, '')};`,
          '            default_type text/plain;',
          '            try_files $uri =404;',
          '        }',
        ]
      : []),
    '        location / {',
    `            return 301 ${target};`,
    '        }',
    '    }',
  ].join('\n')
}

const HUB_HOST_CHECK = `            access_by_lua_block {
                require("edgehub.access").hub_location()
            }`

const USER_COOKIE_FILTER = `            header_filter_by_lua_block {
                require("edgehub.access").user_cookies()
            }`

/** Checks every option, then fills the template; throws a TypeError listing every problem. */
// The hub's location and its "no hub" page count their requests (metrics.lua) when metrics are on.
const METRICS_HUB_LOG = `            log_by_lua_block {
                require("edgehub.metrics").log_hub()
            }`

/** The metrics port: GET /metrics only, no access log, on its own address (loopback by default). */
function metricsServer(host: string, port: number): string {
  return `    server {
        listen ${hostPort(host, port)};
        access_log off;
        location = /metrics {
            content_by_lua_block {
                require("edgehub.metrics").serve()
            }
        }
        location / {
            return 404;
        }
    }`
}

export function renderNginxConf(opts: ProxyRenderOptions, template = readFileSync(TEMPLATE_PATH, 'utf8')): string {
  const problems: string[] = []
  checkHost('listen.host', opts.listen?.host ?? '', problems)
  checkPort('listen.port', opts.listen?.port, problems)
  if (!Array.isArray(opts.hubUpstreams) || opts.hubUpstreams.length === 0) {
    problems.push('hubUpstreams: at least one "host:port" is required')
  } else opts.hubUpstreams.forEach((hp, i) => checkUpstream(i, hp, problems))
  const sentinel = opts.redis?.sentinel
  if (sentinel === undefined || opts.redis.host !== undefined) checkHost('redis.host', opts.redis?.host ?? '', problems)
  if (sentinel === undefined || opts.redis.port !== undefined)
    checkPort('redis.port', opts.redis?.port as number, problems)
  if (sentinel !== undefined) checkSentinel(sentinel, problems)
  const db = opts.redis?.db ?? 0
  const username = opts.redis?.username
  if (username !== undefined && (typeof username !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(username))) {
    problems.push(`redis.username: expected letters, digits, '_', '.' or '-' (1-64), got ${JSON.stringify(username)}`)
  }
  if (username !== undefined && !opts.redis?.password) problems.push('redis.username: needs redis.password')
  if (!Number.isInteger(db) || db < 0) problems.push(`redis.db: expected an integer >= 0, got ${db}`)
  if (typeof opts.prefix !== 'string') problems.push('prefix: required (e.g. "edgehub:")')
  if (!opts.runDir || !isAbsolute(opts.runDir) || !SAFE_TOKEN.test(opts.runDir)) {
    problems.push(`runDir: expected an absolute path without spaces or quotes, got ${JSON.stringify(opts.runDir)}`)
  }
  const luaDir = opts.luaDir ?? DEFAULT_LUA_DIR
  if (!isAbsolute(luaDir) || !SAFE_TOKEN.test(luaDir) || luaDir.includes(';') || luaDir.includes('?')) {
    problems.push(`luaDir: expected an absolute path without spaces, quotes, ';' or '?', got ${JSON.stringify(luaDir)}`)
  }
  const workers = opts.workerProcesses ?? 'auto'
  if (workers !== 'auto' && !(Number.isInteger(workers) && workers > 0)) {
    problems.push(`workerProcesses: expected a positive integer or 'auto', got ${workers}`)
  }
  const dictSize = opts.sharedDictSize ?? '64m'
  if (!/^\d+[kKmM]?$/.test(dictSize))
    problems.push(`sharedDictSize: expected e.g. '64m', got ${JSON.stringify(dictSize)}`)
  if (opts.user !== undefined && !/^[a-z_][a-z0-9_-]*$/.test(opts.user)) {
    problems.push(`user: expected a Unix user name, got ${JSON.stringify(opts.user)}`)
  }
  const modules = opts.modules ?? defaultModules()
  modules.forEach((m, i) => {
    if (!isAbsolute(m) || !SAFE_TOKEN.test(m))
      problems.push(`modules[${i}]: expected an absolute path, got ${JSON.stringify(m)}`)
  })
  const blockMs = opts.syncBlockMs ?? 5000
  if (!Number.isInteger(blockMs) || blockMs < 100)
    problems.push(`syncBlockMs: expected an integer >= 100, got ${blockMs}`)
  const redisHosts = sentinel
    ? Array.isArray(sentinel.hosts)
      ? sentinel.hosts.map((h) => h?.host)
      : []
    : [opts.redis?.host]
  const needsResolver = redisHosts.some((h) => typeof h === 'string' && isIP(h) === 0 && h !== 'localhost')
  const resolver = opts.resolver ?? (needsResolver ? resolvConfNameservers() : [])
  resolver.forEach((r, i) => {
    if (!SAFE_TOKEN.test(r)) problems.push(`resolver[${i}]: expected an address, got ${JSON.stringify(r)}`)
  })
  if (needsResolver && resolver.length === 0) {
    problems.push(
      `resolver: a Redis ${sentinel ? 'sentinel host' : 'host'} is a name; give resolver addresses or an IP`,
    )
  }
  const flushSec = opts.activityFlushSec ?? 10
  if (!Number.isInteger(flushSec) || flushSec < 1)
    problems.push(`activityFlushSec: expected an integer >= 1, got ${flushSec}`)
  const trusted = opts.trustedProxies ?? []
  if (!Array.isArray(trusted) || trusted.length > MAX_TRUSTED_PROXIES)
    problems.push(`trustedProxies: expected at most ${MAX_TRUSTED_PROXIES} addresses or CIDR blocks`)
  else
    trusted.forEach((t, i) => {
      const problem = addressOrCidrProblem(t)
      if (problem) problems.push(`trustedProxies[${i}]: ${problem}`)
    })
  const sd = opts.subdomainHost
  if (
    sd !== undefined &&
    !(typeof sd === 'string' && /^https?:\/\/[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?\/?$/.test(sd))
  ) {
    problems.push(`subdomainHost: expected "http(s)://host[:port]", got ${JSON.stringify(sd)}`)
  }
  const identityHeader = opts.identityHeader
  if (identityHeader !== undefined && !IDENTITY_HEADER.test(identityHeader))
    problems.push(
      `identityHeader: expected a header name (letters, digits, '-'), got ${JSON.stringify(identityHeader)}`,
    )
  const level = opts.errorLogLevel ?? 'notice'
  if (!['debug', 'info', 'notice', 'warn', 'error'].includes(level))
    problems.push(`errorLogLevel: unknown level ${level}`)
  const tls = opts.tls
  if (tls) checkTls(tls, opts.listen?.port, problems)
  const metrics = opts.metrics
  if (metrics) {
    checkHost('metrics.host', metrics.host, problems)
    checkPort('metrics.port', metrics.port, problems)
    if (metrics.port === opts.listen?.port || metrics.port === tls?.httpRedirectPort)
      problems.push(`metrics.port: ${metrics.port} is already the proxy's public or redirect port`)
  }
  if (problems.length > 0) {
    throw new TypeError(
      `invalid proxy options (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${problems.join('\n  ')}`,
    )
  }

  const vars: Record<string, string> = {
    MODULES: modules.map((m) => `load_module ${m};`).join('\n'),
    USER: opts.user ? `user ${opts.user};` : '',
    WORKER_PROCESSES: String(workers),
    RUN_DIR: opts.runDir.replace(/\/+$/, ''),
    ERROR_LOG_LEVEL: level,
    LUA_DIR: luaDir.replace(/\/+$/, ''),
    SHARED_DICT_SIZE: dictSize,
    RESOLVER: resolver.length
      ? `    resolver ${resolver.map((r) => (isIP(r) === 6 ? `[${r}]` : r)).join(' ')} ipv6=off;`
      : '',
    REDIS_HOST: opts.redis.host !== undefined ? luaString(opts.redis.host) : 'nil',
    REDIS_PORT: opts.redis.port !== undefined ? String(opts.redis.port) : 'nil',
    REDIS_USERNAME: username ? luaString(username) : 'nil',
    REDIS_PASSWORD: opts.redis.password ? luaString(opts.redis.password) : 'nil',
    REDIS_DB: String(db),
    REDIS_SENTINELS: sentinel
      ? `{ ${sentinel.hosts.map((h) => `{ host = ${luaString(h.host)}, port = ${h.port} }`).join(', ')} }`
      : 'nil',
    REDIS_MASTER_NAME: sentinel ? luaString(sentinel.masterName) : 'nil',
    REDIS_SENTINEL_USERNAME: sentinel?.username ? luaString(sentinel.username) : 'nil',
    REDIS_SENTINEL_PASSWORD: sentinel?.password ? luaString(sentinel.password) : 'nil',
    PREFIX: luaString(opts.prefix),
    ERROR_PAGES_DIR: opts.errorPagesDir ? luaString(opts.errorPagesDir) : 'nil',
    PUBLIC_URL: opts.publicUrl ? luaString(opts.publicUrl) : 'nil',
    SUBDOMAIN_HOST: sd ? luaString(sd) : 'nil',
    HANDOFF_LOCATION: sd ? HANDOFF_LOCATION : '',
    HUB_HOST_CHECK: sd ? HUB_HOST_CHECK : '',
    USER_COOKIE_FILTER: sd ? USER_COOKIE_FILTER : '',
    SYNC_BLOCK_MS: String(blockMs),
    ACTIVITY_FLUSH_SEC: String(flushSec),
    HUB_UPSTREAMS: opts.hubUpstreams.map((hp) => `        server ${hp} max_fails=1 fail_timeout=1s;`).join('\n'),
    LISTEN: hostPort(opts.listen.host, opts.listen.port) + (tls ? ' ssl' : ''),
    TLS: tls ? tlsLines(tls) : '',
    REDIRECT_SERVER: tls?.httpRedirectPort ? redirectServer(opts.listen.host, opts.listen.port, tls) : '',
    REAL_IP: trusted.length
      ? [
          ...trusted.map((t) => `    set_real_ip_from ${t};`),
          '    real_ip_header X-Forwarded-For;',
          '    real_ip_recursive on;',
        ].join('\n')
      : '',
    METRICS_ENABLED: metrics ? 'true' : 'false',
    METRICS_HUB_LOG: metrics ? METRICS_HUB_LOG : '',
    METRICS_SERVER: metrics ? metricsServer(metrics.host, metrics.port) : '',
    TRUSTED_PEERS: trusted.map((t) => `        ${t} 1;`).join('\n'),
    IDENTITY_HEADERS: identityHeaderLines(identityHeader),
    IDENTITY_HEADER_MAP: identityHeader
      ? [
          `    map "$edgehub_trusted_peer|$uri|$http_${identityHeader.toLowerCase().replaceAll('-', '_')}" $edgehub_identity_header {`,
          '        "~^1\\|/hub/login\\|(?<v>.+)$"  $v;',
          '        default                          "";',
          '    }',
        ].join('\n')
      : '',
  }
  return template.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
    const v = vars[name]
    if (v === undefined) throw new Error(`nginx.conf.tmpl: unknown placeholder \${${name}}`)
    return v
  })
}
