// The one typed configuration. Every field carries its description; docs/config.md is generated from them.
import { isIP } from 'node:net'
import { z } from 'zod'
import { scopeProblem } from '../scopes/scope-set'
import { OIDC_SCOPES } from '../oidc/claims'
import { AUTH_KINDS, authenticatorSettings, normalizeUsername, usernameProblem } from '../../../auth/src'
import { defaultUrlProblem, SPAWNER_KINDS, spawnerSettings } from '../../../spawners/src'
import { TOKEN_LIFETIME_CAP_SEC } from '../state/token-lifetime'
import { groupNameProblem } from '../state/groups'
import { addressOrCidrProblem, MAX_TRUSTED_PROXIES } from '../../../proxy/src/render'
import { uiSettings } from '../branding/settings'

const port = z.number().int().min(1).max(65535)
const seconds = z.number().positive()
const DAY = 86400
/** A duration in seconds: more than 0, at most `max` (every time the hub sleeps or waits for is bounded). */
const secondsUpTo = (max: number) => seconds.max(max)
/** Bytes in an nginx size ("64m", "512k"). */
const sizeBytes = (s: string) => Number(s.slice(0, -1)) * (s.endsWith('m') ? 1024 * 1024 : 1024)
/** A scope in JupyterHub's vocabulary (`read:users`, `access:servers!group=staff`). */
const scopeString = z.string().superRefine((s, ctx) => {
  const problem = scopeProblem(s)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})
/** A user name as the login form takes it (normalized as there: lower case). */
const username = z.string().superRefine((s, ctx) => {
  const problem = usernameProblem(normalizeUsername(s))
  if (problem) ctx.addIssue({ code: 'custom', message: `invalid user name: ${problem}` })
})
/** Why u is not "scheme://host[:port]" with a DNS name as host, or undefined. */
function subdomainHostProblem(u: string): string | undefined {
  const url = URL.canParse(u) ? new URL(u) : undefined
  if (!url) return undefined // z.url reports it
  if (
    url.pathname !== '/' ||
    url.search ||
    url.hash ||
    url.username ||
    url.password ||
    u.includes('?') ||
    u.includes('#')
  ) {
    return 'expected scheme://host[:port] only, without a path, query or user (e.g. https://hub.example.org)'
  }
  const host = url.hostname
  if (
    isIP(host.replace(/^\[|\]$/g, '')) ||
    !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(host) ||
    host.length > 180
  ) {
    return `expected a DNS name as host (users' hosts are NAME.${host}), got ${host}`
  }
  return undefined
}
const hostPort = z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected "host:port"')

export const configSchema = z
  .strictObject({
    dataDir: z
      .string()
      .default('./data')
      .describe('Where Redis data, generated configs, and server logs and home directories go.'),
    host: z.string().default('127.0.0.1').describe('Address the public proxy listens on.'),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('Lowest level of log lines written.'),
    accessLog: z
      .boolean()
      .default(true)
      .describe(
        "Whether the hub writes one info line per request (component hub.access: method, path without its query, status, duration in ms, user, and the proxy's request id). false: none; logLevel above info silences it too.",
      ),
    audit: z
      .strictObject({
        file: z
          .string()
          .min(1)
          .max(4096)
          .optional()
          .describe(
            "File the audit events are appended to, one JSON line each (docs/audit.md), opened per event so logrotate can move it. Default: none, the events go to the hub's log stream with component hub.audit, whatever logLevel says.",
          ),
      })
      .prefault({})
      .describe('The audit log: one JSON event per security-relevant action (docs/audit.md).'),
    port: port.default(8000).describe('Public port: the proxy, which every browser and API client talks to.'),
    publicUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'URL users see, when a load balancer or TLS terminator sits in front (https turns on Secure cookies). With subdomainHost: that URL by default, and when given it must be on the same scheme, host and port.',
      ),
    subdomainHost: z
      .url({ protocol: /^https?$/, error: 'expected an http or https URL' })
      .superRefine((u, ctx) => {
        const problem = subdomainHostProblem(u)
        if (problem) ctx.addIssue({ code: 'custom', message: problem })
      })
      .optional()
      .describe(
        "Serve each user's server on a host of its own (JupyterHub's subdomain_host): `https://hub.example.org` serves the hub there and NAME's server at `https://NAME.hub.example.org/user/NAME/` (a name that is not a DNS label becomes `u-<its letters>--<hash>`). A script in one user's pages then cannot read the hub's pages or call its API as the visitor: set it when admins (by default, proxy.adminAccess) or others (sharing, access:servers roles) open users' servers. Needs wildcard DNS and, with https, a wildcard certificate (docs/subdomains.md). scheme://host[:port] only; the host a DNS name. Default: none, every server on the hub's host.",
      ),
    cleanupServers: z
      .boolean()
      .default(true)
      .describe(
        "Whether stopping `edgehub up` (Ctrl-C, SIGTERM) stops users' servers too (JupyterHub's cleanup_servers). false: they keep running, and the next start finds them again with their routes. Under systemd, set KillMode=process in the unit, or stopping the unit kills them anyway.",
      ),
    hub: z
      .strictObject({
        host: z.string().default('127.0.0.1').describe('Address the hub (control plane) listens on.'),
        port: port.default(8081).describe('Port of the hub; only the proxy talks to it.'),
        slowSpawnTimeoutSec: secondsUpTo(3600)
          .default(10)
          .describe(
            'How long a spawn request waits for the server before answering 202 (pending) instead of 201. Range: above 0, at most 3600.',
          ),
        pollIntervalSec: secondsUpTo(3600)
          .default(5)
          .describe('How often running servers are checked. Range: above 0, at most 3600.'),
        concurrentSpawnLimit: z
          .number()
          .int()
          .min(0)
          .max(100_000)
          .default(100)
          .describe(
            "Most spawns in progress at once, counted across every replica (JupyterHub's concurrent_spawn_limit). Further start requests are refused with 429 and a Retry-After header until some finish. 0 = no limit. Range 0-100000.",
          ),
        activeServerLimit: z
          .number()
          .int()
          .min(0)
          .max(1_000_000)
          .default(0)
          .describe(
            'Most servers active (starting, running or stopping) at once, counted across every replica (JupyterHub\'s active_server_limit). A start beyond it is refused with 429 "Active user limit exceeded. Try again in a few minutes."; running servers are not touched. 0 = no limit. Range 0-1000000.',
          ),
        allowNamedServers: z
          .boolean()
          .default(false)
          .describe('Users may run named servers besides their default one (/user/NAME/SERVER/).'),
        namedServerLimitPerUser: z
          .number()
          .int()
          .min(0)
          .max(1000)
          .default(0)
          .describe(
            "Most named servers one user may have starting, running or stopping at once (JupyterHub's named_server_limit_per_user, which counts stopped ones too: docs/rest-api.md); a start beyond it is refused with 400. 0 = no limit. Range 0-1000.",
          ),
        authenticatePrometheus: z
          .boolean()
          .default(true)
          .describe(
            "GET /hub/metrics needs a token or session with the read:metrics scope (JupyterHub's authenticate_prometheus). false serves the metrics to anyone who reaches the hub, which shows user and server counts to the public: only behind a network boundary (docs/metrics.md).",
          ),
        shutdownOnLogout: z
          .boolean()
          .default(false)
          .describe(
            "Logging out (/hub/logout) also stops every running server of the user, default and named (JupyterHub's shutdown_on_logout); servers still starting or stopping are left to finish. Other sessions of the user stay logged in. Only a logout from the hub's own pages (or typed into the address bar) stops servers: a logout link on another site, or on a user's page under subdomainHost, logs the visitor out and leaves their servers running (JupyterHub stops them).",
          ),
        tokenInQuery: z
          .boolean()
          .default(true)
          .describe(
            "Accept API tokens in the URL (`?token=`) as well as the Authorization header (JupyterHub's allow_token_in_url). URLs end up in logs and browser history: turn off when no client needs it.",
          ),
        tokenExpiresInMaxSec: z
          .number()
          .int()
          .min(0)
          .max(TOKEN_LIFETIME_CAP_SEC)
          .default(0)
          .describe(
            `Longest lifetime, in seconds, of a token requested through the API or the token page (JupyterHub's token_expires_in_max_seconds): a longer expires_in is refused with 400, and a request without one gets this lifetime. 0 = no maximum: tokens may never expire, and an explicit expires_in may be up to ${TOKEN_LIFETIME_CAP_SEC} (10 years). Range 0-${TOKEN_LIFETIME_CAP_SEC}.`,
          ),
        serverLockLeaseSec: secondsUpTo(3600)
          .default(15)
          .describe(
            'Lease of the per-server start/stop lock, renewed while a replica works. A spawn whose replica died is failed (and its process stopped) within this plus pollIntervalSec. Range: above 0, at most 3600.',
          ),
      })
      .prefault({})
      .describe('The control plane.'),
    redis: z
      .strictObject({
        url: z
          .string()
          .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
          .optional()
          .describe(
            'An existing Redis. When absent, `edgehub up` runs a private one on redis.port with data in dataDir. The hub logs in as the ACL user and password the URL names (`redis://edgehub-hub:PASSWORD@host:6379/0`; see docs/high-availability.md for its rules).',
          ),
        passwordFile: z
          .string()
          .min(1)
          .optional()
          .describe(
            "File whose first line is the hub's Redis password, used instead of one in redis.url (which then names only the user: `redis://edgehub-hub@host:6379`). Keeps the password out of edgehub.yaml; read at start.",
          ),
        port: port.default(6390).describe('Port of the private Redis started by `edgehub up`.'),
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9:_{}.-]*$/, 'letters, digits and : _ { } . - only')
          .default('edgehub:')
          .describe('Prefix of every key, so several hubs can share one Redis.'),
        streamMaxLen: z
          .number()
          .int()
          .min(1000)
          .max(10_000_000)
          .default(100_000)
          .describe('Entries kept in the proxy change stream. Range 1000-10000000.'),
        waitSec: z
          .number()
          .positive()
          .max(60)
          .optional()
          .describe(
            'How long a hub request waits for an unreachable Redis before the hub answers 503 with Retry-After. Default: 1 s; 6 s with redis.sentinel, so that a failover (down-after-milliseconds plus the election) is waited out rather than failed.',
          ),
        sentinel: z
          .strictObject({
            hosts: z.array(hostPort).min(1).describe('Sentinels ("host:port"), asked in turn for the current master.'),
            masterName: z
              .string()
              .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only')
              .default('mymaster')
              .describe("The monitored master's name."),
            password: z.string().optional().describe("The sentinels' own password (requirepass), when they have one."),
            username: z
              .string()
              .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits and _ . - only, 1-64 characters')
              .optional()
              .describe(
                'An ACL user of the sentinels to log in to them as, with redis.sentinel.password as its password (default: their default user).',
              ),
          })
          .optional()
          .describe(
            'Redis Sentinel: hub and proxies follow failovers to the new master. redis.url then only supplies the password and database.',
          ),
      })
      .prefault({})
      .describe('Where all state lives.'),
    proxy: z
      .strictObject({
        workers: z
          .union([z.number().int().min(1).max(64), z.literal('auto')])
          .default('auto')
          .describe(
            'nginx worker processes: 1-64, or `auto` (one per CPU). 64 is a fixed cap rather than a multiple of the CPUs, so that a file passes `config check` on every machine; more workers than CPUs only add memory and connections to Redis.',
          ),
        adminAccess: z
          .boolean()
          .default(true)
          .describe(
            "The admin role holds access:servers, as JupyterHub's default admin role does: admins open users' servers (through the proxy and OAuth), issue tokens for users and share their servers. false drops that scope from the admin role: admins then manage servers without opening them. A redefined admin role without access:servers needs false.",
          ),
        sharedDictSize: z
          .string()
          .regex(/^\d+[km]$/, 'expected a size such as "64m" or "512k"')
          .refine((v) => sizeBytes(v) >= 1024 * 1024 && sizeBytes(v) <= 4096 * 1024 * 1024, 'expected 1m-4096m')
          .default('64m')
          .describe(
            "Size of the proxy's local copy of the routes and keys (nginx lua_shared_dict, in each proxy's shared memory). Range 1m-4096m.",
          ),
        hubUpstreams: z
          .array(hostPort)
          .min(1)
          .optional()
          .describe(
            'Every hub replica ("host:port") the proxy sends /hub/ requests to, with retries of idempotent requests on another one. Default: hub.host:hub.port.',
          ),
        activityFlushSec: z
          .number()
          .int()
          .min(1)
          .max(3600)
          .default(10)
          .describe('How often each proxy writes the last activity of the routes it served to Redis. Range 1-3600.'),
        metricsPort: port
          .optional()
          .describe(
            "Port of each proxy's Prometheus metrics (GET /metrics: requests and latency by kind, upstream errors, auth failures, sync state, tables held, shared-dict use, activity flushes; docs/metrics.md), on a server of its own at metricsHost, never on the public port. The metrics need no credentials: keep the port off the public network. Default: none (no metrics port, nothing counted).",
          ),
        metricsHost: z
          .string()
          .regex(/^[A-Za-z0-9.:-]{1,253}$/, 'expected an IP address or a host name')
          .default('127.0.0.1')
          .describe(
            'Address the metrics port listens on: loopback by default, reachable only from the machine (a Prometheus agent beside the proxy); a private address for a Prometheus elsewhere.',
          ),
        runDir: z
          .string()
          .optional()
          .describe('Where `edgehub proxy` keeps its rendered nginx.conf, pid file and logs. Default: dataDir/proxy.'),
        trustedProxies: z
          .array(
            z.string().superRefine((t, ctx) => {
              const problem = addressOrCidrProblem(t)
              if (problem) ctx.addIssue({ code: 'custom', message: problem })
            }),
          )
          .max(MAX_TRUSTED_PROXIES)
          .default([])
          .describe(
            `Front proxies (load balancers, TLS terminators) whose X-Forwarded-For and X-Forwarded-Proto the edge proxy believes: IP addresses or CIDR blocks, at most ${MAX_TRUSTED_PROXIES}. From every other peer both headers are replaced (its address; the proxy's own scheme) before the hub or a server sees them. Default: none, for a proxy that clients reach directly; behind a TLS terminator or HAProxy, list its address (and set publicUrl).`,
          ),
        tls: z
          .strictObject({
            certFile: z
              .string()
              .min(1)
              .describe(
                'PEM certificate chain the proxy serves (the site certificate first, then its intermediates), as `ssl_certificate`. Read by each proxy, so it must exist on every proxy machine; hubs never read it.',
              ),
            keyFile: z
              .string()
              .min(1)
              .describe(
                'PEM private key of that certificate, readable by the user `edgehub proxy` runs as (mode 0600 or 0640 is enough).',
              ),
            httpRedirectPort: port
              .optional()
              .describe(
                'A plain-HTTP port on the same host that answers every request with a 301 to the same URL over https (and, with acmeWebroot, serves ACME http-01 challenges). Default: none.',
              ),
            acmeWebroot: z
              .string()
              .min(1)
              .optional()
              .describe(
                "Directory whose .well-known/acme-challenge/ files the redirect port serves, for certbot's --webroot (or any ACME client's http-01 files). Needs httpRedirectPort (on port 80 for a public CA).",
              ),
            hstsMaxAgeSec: z
              .number()
              .int()
              .min(0)
              .max(63_072_000)
              .default(31_536_000)
              .describe(
                'Strict-Transport-Security max-age sent on every https answer: browsers then refuse plain http to this host for that long. 0 sends no header. Range 0-63072000 (two years); default one year.',
              ),
            hstsIncludeSubdomains: z
              .boolean()
              .default(false)
              .describe(
                'Adds includeSubDomains to Strict-Transport-Security (right with subdomainHost, whose user hosts are then https-only too). Only when every subdomain of the host serves https.',
              ),
            reloadCheckSec: z
              .number()
              .int()
              .min(1)
              .max(86_400)
              .default(60)
              .describe(
                'How often each proxy looks at certFile and keyFile for a change (a renewal); on a change it checks the new pair with `nginx -t` and reloads gracefully: connections in flight finish on the old certificate, new ones get the new one. A pair that fails the check is logged and the old one kept. Range 1-86400.',
              ),
          })
          .refine((t) => !t.acmeWebroot || t.httpRedirectPort !== undefined, {
            message: 'acmeWebroot needs httpRedirectPort (the http-01 challenge comes over plain http)',
            path: ['acmeWebroot'],
          })
          .optional()
          .describe(
            'TLS at the edge: the proxy itself serves https on `port` with TLS 1.2 and 1.3 only and the Mozilla "intermediate" ciphers (docs/tls.md). publicUrl then defaults to https. Default: none (plain http, for a proxy behind a TLS terminator or on a private network).',
          ),
        redis: z
          .strictObject({
            username: z
              .string()
              .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits and _ . - only, 1-64 characters')
              .optional()
              .describe(
                'The Redis ACL user the proxies log in as (e.g. `edgehub-proxy`, with the rules in docs/high-availability.md).',
              ),
            password: z.string().min(1).optional().describe("That user's password."),
            passwordFile: z
              .string()
              .min(1)
              .optional()
              .describe("File whose first line is that user's password, instead of proxy.redis.password."),
          })
          .refine(
            (r) => !(r.password && r.passwordFile),
            'give proxy.redis.password or proxy.redis.passwordFile, not both',
          )
          .optional()
          .describe(
            "The proxies' own Redis log-in, which needs only to read the proxy tables and write activity. Default: the hub's (redis.url); with the private Redis of `edgehub up`, the proxy user made with it.",
          ),
      })
      .prefault({})
      .describe('The nginx+Lua edge proxy started by `edgehub up`.'),
    auth: z
      .strictObject({
        kind: z
          .enum(AUTH_KINDS)
          .default('native')
          .describe(
            `How people log in: ${AUTH_KINDS.map((k) => `\`${k}\``).join(', ')} (docs/authenticators.md; each kind's own settings are under auth.KIND). \`dummy\` takes any password: development only.`,
          ),
        admins: z
          .array(username)
          .default([])
          .describe(
            "Users who are admins. They exist from the hub's start (with the native authenticator, without a password until `edgehub user add NAME` sets one; `edgehub up` prints a generated one for the first when no admin has any).",
          ),
        allowed: z
          .array(username)
          .default([])
          .describe(
            "When not empty, only these users may log in (admins always may). They exist from the hub's start, as in JupyterHub.",
          ),
        blocked: z.array(username).default([]).describe('Users who may never log in.'),
        also: z
          .array(z.enum(AUTH_KINDS))
          .max(5)
          .default([])
          .describe(
            "Authenticators offered beside auth.kind on the login page, each with its settings under auth.KIND: an identity provider's button and a password form, say (auth.kind: oidc, also: [native]), as a site moving to single sign-on keeps local accounts. At most one identity provider, one that reads the request and one whose passwords the hub keeps. A password login tries each password authenticator in order. Each user is refreshed, logged out and given server environment by the one they logged in with.",
          ),
        allowedGroups: z
          .array(z.string().min(1).max(255))
          .max(1000)
          .default([])
          .describe(
            "Members of these groups may log in (JupyterHub's allowed_groups), with auth.allowed: either lets a user in. The groups are those the authenticator reports at login (an identity provider's groups, LDAP or Unix groups); an authenticator that reports none (native) is judged by the hub's own groups.",
          ),
        adminGroups: z
          .array(z.string().min(1).max(255))
          .max(1000)
          .default([])
          .describe(
            "Members of these groups are admins (JupyterHub's admin_groups), judged at every login from the groups the authenticator reports; a user who leaves them stops being an admin at the next login, unless listed in auth.admins.",
          ),
        manageGroups: z
          .boolean()
          .default(false)
          .describe(
            "The authenticator manages group membership (JupyterHub's Authenticator.manage_groups): at each login and refresh the user joins the groups it reports (made when missing) and leaves the others. For authenticators that report groups (OpenID Connect, LDAP, PAM); with others it changes nothing.",
          ),
        enableAuthState: z
          .boolean()
          .default(false)
          .describe(
            "Keep what the authenticator knows of each login (tokens, claims: JupyterHub's auth_state) in Redis, encrypted with auth.cryptKeys; it is handed to refresh and to the servers' environment by authenticators that use it, and shown to holders of admin:auth_state in the REST API. false: it is dropped.",
          ),
        cryptKeys: z
          .array(
            z
              .string()
              .regex(
                /^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/,
                'expected a 32-byte key: 64 hex digits or base64 (openssl rand -hex 32)',
              ),
          )
          .max(16)
          .default([])
          .describe(
            "Keys that encrypt auth state (AES-256-GCM), 32 bytes each as 64 hex digits or base64 (`openssl rand -hex 32`). The first encrypts; every one decrypts, so a new key goes first and an old one stays until the states it wrote are rewritten (at each login). Default: JupyterHub's JUPYTERHUB_CRYPT_KEY environment variable, keys separated by `;`. Needed when auth.enableAuthState is true.",
          ),
        refreshAgeSec: z
          .number()
          .min(0)
          .max(7 * 24 * 3600)
          .default(300)
          .describe(
            "Check each logged-in user again with the authenticator (JupyterHub's auth_refresh_age) when their last check is older than this: at hub requests, and on a schedule for users with running servers. 0: never. For authenticators that can (refresh); others ignore it. Range: 0 to 604800.",
          ),
        refreshBeforeSpawn: z
          .boolean()
          .default(false)
          .describe(
            "Check the user with the authenticator before every spawn (JupyterHub's refresh_pre_spawn); a user no longer valid must log in again before the server starts.",
          ),
        ...authenticatorSettings,
        throttle: z
          .strictObject({
            enabled: z
              .boolean()
              .default(true)
              .describe(
                'Count failed logins in Redis (shared by every hub replica) and slow down, then lock, the names and addresses they come from. The answer is the same whether or not the user exists.',
              ),
            freeFailures: z
              .number()
              .int()
              .min(0)
              .max(100)
              .default(5)
              .describe('Failed logins of one user name before each further attempt must wait. Range 0-100.'),
            addressFreeFailures: z
              .number()
              .int()
              .min(0)
              .max(100_000)
              .default(100)
              .describe(
                'Failed logins from one client address (any names) before each further attempt from it must wait. People behind one address (a NAT, a campus proxy, or every client when a load balancer in front hides their addresses) share this count. Range 0-100000.',
              ),
            baseDelaySec: z
              .number()
              .int()
              .min(1)
              .max(60)
              .default(1)
              .describe('The first wait past the free failures, doubled at each further failure. Range 1-60.'),
            maxDelaySec: z
              .number()
              .int()
              .min(1)
              .max(3600)
              .default(300)
              .describe('The longest wait between two attempts. Range 1-3600.'),
            lockoutFailures: z
              .number()
              .int()
              .min(0)
              .max(1000)
              .default(20)
              .describe(
                'Failed logins of one user name that lock it: no password is checked for it until an admin unlocks it (`edgehub user unlock NAME`, or `DELETE /hub/api/users/NAME/login-failures`) or lockoutSec passes. 0 = never lock (delays only). An address is never locked, only delayed. Range 0-1000.',
              ),
            lockoutSec: z
              .number()
              .int()
              .min(60)
              .max(30 * DAY)
              .default(DAY)
              .describe('How long a lock lasts without an admin. Range 60-2592000 (30 days).'),
            forgetAfterSec: z
              .number()
              .int()
              .min(60)
              .max(30 * DAY)
              .default(3600)
              .describe(
                "Failures are forgotten this long after the last one (and a name's at its next successful login). Range 60-2592000.",
              ),
          })
          .refine((t) => t.baseDelaySec <= t.maxDelaySec, {
            path: ['baseDelaySec'],
            message: 'must not exceed auth.throttle.maxDelaySec',
          })
          // compared only when freeFailures is itself valid: a bad freeFailures is one line, its own
          .refine(
            (t) =>
              !t.lockoutFailures ||
              !(t.freeFailures >= 0 && t.freeFailures <= 100) ||
              t.lockoutFailures >= t.freeFailures,
            { path: ['lockoutFailures'], message: 'must be 0 or at least auth.throttle.freeFailures' },
          )
          .prefault({})
          .describe(
            'Login throttling (the login form): growing waits per user name and per client address, a lock per name.',
          ),
      })
      .prefault({})
      .describe('Who may log in.'),
    sessions: z
      .strictObject({
        maxAgeSec: secondsUpTo(400 * DAY)
          .default(14 * 24 * 3600)
          .describe(
            'Lifetime of a login session and its cookie. Range: above 0, at most 400 days (34560000), the longest cookie lifetime browsers keep.',
          ),
        keyRotationSec: secondsUpTo(400 * DAY)
          .default(24 * 3600)
          .describe(
            'How often a new cookie-signing key is made; old keys stay until their cookies expire. Range: above 0, at most 400 days, and at least maxAgeSec / 1000 (at most about 1000 keys kept).',
          ),
      })
      .refine((s) => s.maxAgeSec / s.keyRotationSec <= 1000, {
        path: ['keyRotationSec'],
        message: 'keeps more than 1000 cookie-signing keys at once: make it at least sessions.maxAgeSec / 1000',
      })
      .prefault({})
      .describe('Login sessions.'),
    ui: uiSettings,
    culler: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe('Stop servers nobody has used for timeoutSec (the jupyterhub-idle-culler service, built in).'),
        timeoutSec: secondsUpTo(365 * DAY)
          .default(3600)
          .describe(
            'A server idle (no request through any proxy, no activity it reported) this long is stopped. Range: above 0, at most 365 days.',
          ),
        everySec: secondsUpTo(DAY)
          .optional()
          .describe(
            'How often to look for idle servers. Default: timeoutSec / 2, at most 300. Range: above 0, at most 86400.',
          ),
        maxAgeSec: z
          .number()
          .min(0)
          .max(365 * DAY)
          .default(0)
          .describe('Stop servers running longer than this, idle or not; 0 = no limit. Range 0-31536000 (365 days).'),
        removeNamedServers: z
          .boolean()
          .default(false)
          .describe('Remove culled named servers entirely instead of only stopping them.'),
        users: z
          .boolean()
          .default(false)
          .describe('Also delete users with no running server who have been inactive for timeoutSec.'),
        admins: z.boolean().default(true).describe("Cull admins' servers (and, with users: true, admin accounts) too."),
      })
      .prefault({})
      .describe('Idle culler (runs on the elected leader replica).'),
    roles: z
      .array(
        z.strictObject({
          name: z
            .string()
            .regex(/^[a-z][a-z0-9_.-]{1,254}$/, 'lowercase letters, digits and _ . - (2-255), starting with a letter')
            .describe('Role name; `user`, `admin`, `server` or `token` redefine the default role.'),
          description: z.string().default('').describe('What the role is for.'),
          scopes: z
            .array(scopeString)
            .default([])
            .describe("Scopes granted, in JupyterHub's vocabulary (`read:users`, `access:servers!group=staff`, …)."),
          users: z.array(z.string()).default([]).describe('Users who have the role.'),
          groups: z.array(z.string()).default([]).describe('Groups whose members have the role.'),
          services: z.array(z.string()).default([]).describe('Services that have the role.'),
        }),
      )
      .default([])
      .superRefine((roles, ctx) => {
        const seen = new Set<string>()
        roles.forEach((r, i) => {
          if (seen.has(r.name))
            ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `role ${r.name} is defined twice` })
          seen.add(r.name)
        })
      })
      .describe(
        "Custom roles (JupyterHub's load_roles): named sets of scopes given to users, groups and services. Every user has the `user` role, admins the `admin` role.",
      ),
    groups: z
      .record(
        z.string(),
        z.union([
          z.array(username),
          z.strictObject({
            users: z.array(username).optional().describe('Members, added at every start (never removed).'),
            properties: z
              .record(z.string(), z.unknown())
              .optional()
              .describe("Replace the group's properties at every start; left out, they are kept."),
          }),
        ]),
      )
      // the key's own problem, named by its path (a refined record key reports only "Invalid key in record")
      .superRefine((groups, ctx) => {
        for (const name of Object.keys(groups)) {
          const problem = groupNameProblem(name)
          if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem })
        }
      })
      .default({})
      .describe(
        "Groups made at the hub's start (JupyterHub's load_groups): `{NAME: {users: [...], properties: {...}}}` (or JupyterHub's older `{NAME: [users]}`). Each start creates missing groups and missing users, adds the members listed and, when `properties` is given, replaces the group's properties with it. It only adds, as in JupyterHub: members added through the API and groups no longer listed stay until removed through the API. Membership does not let a user log in where auth.allowed keeps them out. Replicas starting at once end with the same groups. A member name the login form would refuse, or a group name with a slash, control character or edge spaces, stops the start with a line naming the key.",
      ),
    services: z
      .array(
        z.strictObject({
          name: z
            .string()
            .regex(
              /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
              'letters, digits and . _ - (up to 64), starting with a letter or digit',
            )
            .describe('Service name; it is served at /services/NAME/.'),
          url: z
            .url({ protocol: /^https?$/ })
            .optional()
            .describe(
              'Where the service listens (http://127.0.0.1:PORT): the proxy routes /services/NAME/ there. Without it the service only uses the API.',
            ),
          command: z
            .array(z.string().min(1))
            .min(1)
            .optional()
            .describe(
              'A managed service: the hub starts this command, keeps it running (restarting it when it exits) and gives it the JUPYTERHUB_* environment.',
            ),
          env: z.record(z.string(), z.string()).default({}).describe('Extra environment of a managed service.'),
          cwd: z
            .string()
            .optional()
            .describe('Working directory of a managed service. Default: dataDir/services/NAME.'),
          apiToken: z
            .string()
            .min(32, 'at least 32 characters')
            .optional()
            .describe(
              "An external service's API token (keep it out of version control: EDGEHUB_SERVICES is not split per service, so prefer a config file readable only by the hub). Managed services get a new token at every start.",
            ),
          oauthNoConfirm: z
            .boolean()
            .default(false)
            .describe(
              "Users logging in to this service through the hub's OAuth skip the consent page (a service the operator trusts).",
            ),
          oauthClientAllowedScopes: z
            .array(scopeString)
            .default([])
            .describe(
              "Scopes the service may ask for in OAuth, beyond identifying the user (JupyterHub's oauth_client_allowed_scopes).",
            ),
          oauthRedirectUri: z.string().optional().describe('OAuth callback. Default: /services/NAME/oauth_callback.'),
          display: z
            .boolean()
            .default(true)
            .describe(
              "List the service on users' home page (JupyterHub's display), as a link to /services/NAME/; only services with a url are listed.",
            ),
          info: z
            .record(z.string(), z.unknown())
            .default({})
            .describe('Free-form information shown in the service model.'),
        }),
      )
      .default([])
      .superRefine((services, ctx) => {
        const seen = new Set<string>()
        services.forEach((svc, i) => {
          if (seen.has(svc.name))
            ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `service ${svc.name} is defined twice` })
          seen.add(svc.name)
          if (svc.command && svc.apiToken)
            ctx.addIssue({
              code: 'custom',
              path: [i, 'apiToken'],
              message: 'a managed service (command) gets its token from the hub; remove apiToken',
            })
        })
      })
      .describe(
        "Services (JupyterHub's services): external ones (a URL) and managed ones (a command the hub runs), each with an API token, an OAuth client and, with a URL, a route at /services/NAME/.",
      ),
    spawner: z
      .strictObject({
        kind: z
          .enum(SPAWNER_KINDS)
          .default('local-process')
          .describe(
            `How servers are started: ${SPAWNER_KINDS.map((k) => `\`${k}\``).join(', ')} (each kind's own settings are under spawner.KIND).`,
          ),
        startTimeoutSec: secondsUpTo(DAY)
          .default(60)
          .describe(
            'A server that has not started after this long is stopped and the spawn fails. Range: above 0, at most 86400.',
          ),
        httpTimeoutSec: secondsUpTo(DAY)
          .default(30)
          .describe('Once started, how long the server may take to answer HTTP. Range: above 0, at most 86400.'),
        stopGraceSec: secondsUpTo(3600)
          .default(10)
          .describe('Time between SIGTERM and SIGKILL when stopping. Range: above 0, at most 3600.'),
        removeOrphans: z
          .boolean()
          .default(true)
          .describe(
            "Servers this hub started (its mark: a process's EDGEHUB_HUB_ID, a container's or pod's label) that no record owns, found by the leader replica every few poll intervals: left behind when a replica died between starting a server and recording it, or when Redis lost the record. true: each is stopped (its container or pod removed; a volume or claim is kept), and logged. false: each is logged once (`a server no record owns`, with its user and server), for the operator to decide.",
          ),
        defaultUrl: z
          .string()
          .superRefine((v, ctx) => {
            const problem = defaultUrlProblem(v)
            if (problem) ctx.addIssue({ code: 'custom', message: problem })
          })
          .optional()
          .describe(
            "Where users land inside their server (JupyterHub's Spawner.default_url): a path under the server's URL, such as `/lab`, `/tree` or `/tree/{username}` ({username}: the user's name, URL-escaped). The server gets it as JUPYTERHUB_DEFAULT_URL (and, with the default args of `jupyter notebook` or `jupyter server`, as their default_url flag); the hub's redirects into a running server (`/hub/`, `/hub/spawn`, the spawn-pending page) go there. Default: the server's own (`/tree` for the classic notebook). At most 512 characters.",
          ),
        ...spawnerSettings,
      })
      .prefault({})
      .describe('Single-user servers.'),
    oidc: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            'Serve the OpenID Connect provider at /hub/oidc; its issuer is publicUrl + `/hub/oidc` (see docs/oidc.md).',
          ),
        keyRotationDays: z
          .number()
          .positive()
          .max(365)
          .default(30)
          .describe(
            'How often the ID-token signing key changes, to a key published since the previous change; a replaced key stays published until the ID tokens it signed have expired. Range: above 0, at most 365.',
          ),
        accessTokenTtlSec: z
          .number()
          .int()
          .positive()
          .max(30 * DAY)
          .default(3600)
          .describe('Lifetime of an access token (for userinfo). Range 1-2592000 (30 days).'),
        idTokenTtlSec: z
          .number()
          .int()
          .positive()
          .max(30 * DAY)
          .default(3600)
          .describe('Lifetime of an ID token. Range 1-2592000 (30 days).'),
        refreshTokenTtlSec: z
          .number()
          .int()
          .positive()
          .max(400 * DAY)
          .default(14 * 24 * 3600)
          .describe('Lifetime of a refresh token. Range 1-34560000 (400 days).'),
        clients: z
          .array(
            z.strictObject({
              clientId: z
                .string()
                .regex(/^[A-Za-z0-9._~-]{1,128}$/, 'letters, digits and . _ ~ - (up to 128)')
                .describe("The client's id (client_id)."),
              clientSecret: z
                .string()
                .min(32, 'at least 32 characters')
                .optional()
                .describe(
                  "The client's secret. Without one the client is public: it authenticates with nothing and must use PKCE.",
                ),
              tokenEndpointAuthMethod: z
                .enum(['client_secret_basic', 'client_secret_post'])
                .optional()
                .describe('How a client with a secret sends it to the token endpoint. Default: client_secret_basic.'),
              redirectUris: z
                .array(
                  z
                    .url({ protocol: /^https?$/, error: 'expected an http or https URL' })
                    .refine((u) => !u.includes('#'), 'a redirect URI has no #fragment'),
                )
                .min(1)
                .describe('The exact callback URLs the client may be sent back to.'),
              allowedScopes: z
                .array(z.enum(OIDC_SCOPES))
                .optional()
                .describe(`Scopes the client may ask for. Default: all (${OIDC_SCOPES.join(', ')}).`),
              postLogoutRedirectUris: z
                .array(z.url({ protocol: /^https?$/, error: 'expected an http or https URL' }))
                .default([])
                .describe('Where the client may send the browser after logging out (RP-initiated logout).'),
            }),
          )
          .default([])
          .superRefine((clients, ctx) => {
            const seen = new Set<string>()
            clients.forEach((cl, i) => {
              if (seen.has(cl.clientId))
                ctx.addIssue({
                  code: 'custom',
                  path: [i, 'clientId'],
                  message: `client ${cl.clientId} is defined twice`,
                })
              seen.add(cl.clientId)
              if (cl.tokenEndpointAuthMethod && !cl.clientSecret)
                ctx.addIssue({
                  code: 'custom',
                  path: [i, 'tokenEndpointAuthMethod'],
                  message: 'a public client (no clientSecret) sends no secret; remove it',
                })
            })
          })
          .describe(
            'Clients (relying parties) the operator registers: `clientId`, `clientSecret` (absent for a public client), `redirectUris`, `allowedScopes`, `postLogoutRedirectUris`, `tokenEndpointAuthMethod`. They are trusted: users are not asked for consent.',
          ),
      })
      .prefault({})
      .describe(
        'The hub as an OpenID Connect provider for services (authorization code with PKCE, refresh tokens, userinfo); all its state is in Redis.',
      ),
  })
  .superRefine((c, ctx) => {
    // the proxy lets admins in by the admin flag and this setting: it must agree with the role
    const admin = c.roles.find((r) => r.name === 'admin')
    if (admin && c.proxy.adminAccess && !admin.scopes.some((s) => s === 'access:servers' || s === 'shares')) {
      ctx.addIssue({
        code: 'custom',
        path: ['proxy', 'adminAccess'],
        message:
          "must be false when the admin role in roles has no access:servers (the proxy would still let admins into users' servers)",
      })
    }
    if (
      c.subdomainHost &&
      c.publicUrl &&
      URL.canParse(c.subdomainHost) &&
      URL.canParse(c.publicUrl) &&
      new URL(c.publicUrl).origin !== new URL(c.subdomainHost).origin
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['publicUrl'],
        message: `must have the scheme, host and port of subdomainHost (${new URL(c.subdomainHost).origin}), where the hub is served, or be left out`,
      })
    }
  })
  .describe('edgehub configuration')

export type Config = z.infer<typeof configSchema>
